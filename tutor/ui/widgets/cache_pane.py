"""The cache pane: hits and misses, the first miss, and the cascade it caused."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from tutor.engine.record import BUILT, CACHED, FAILED, BuildRecord
from tutor.ui.widgets.static_update import update_in_place

BAR_WIDTH = 24
MIN_BAR_WIDTH = 6


def cache_bar(hits: int, misses: int, width: int = BAR_WIDTH) -> Text:
    total = hits + misses
    if total == 0:
        return Text("░" * width, style="dim")
    filled = round(width * hits / total)
    bar = Text()
    bar.append("█" * filled, style="green")
    bar.append("█" * (width - filled), style="yellow")
    return bar


def describe(
    record: BuildRecord, why: str | None = None, explanation: str | None = None, width: int | None = None
) -> Text:
    """Numbers, a bar, and one or two plain sentences about what the cache did.

    ``width`` is the line's room in cells: the bar shrinks so the first line never wraps.
    """
    steps = record.ordered
    hits = sum(1 for s in steps if s.status == CACHED)
    misses = sum(1 for s in steps if s.status in (BUILT, FAILED))
    text = Text()
    text.append("Cache  ", style="bold")
    text.append(f"{hits} from cache", style="green")
    text.append(" · ")
    text.append(f"{misses} rebuilt", style="yellow")
    total = record.counted_steps  # BuildKit runs no step for ENV, EXPOSE, CMD: they are not counted
    tail = f"  {hits}/{total}" if total else ""
    bar_width = BAR_WIDTH
    if width is not None:
        bar_width = min(BAR_WIDTH, width - text.cell_len - 2 - len(tail))
    if bar_width >= MIN_BAR_WIDTH:
        text.append("  ")
        text.append_text(cache_bar(hits, misses, bar_width))
    if tail and (width is None or text.cell_len + len(tail) <= width):
        text.append(tail, style="dim")
    text.append("\n")
    if not steps:
        text.append(explanation or "No build yet: press b to build.", style="dim")  # or why there is none
        return text
    if explanation and record.finished:
        # The engine layer compared this build with the previous one: it knows the cause.
        text.append(explanation)
        return text
    first = record.first_miss
    if first is None:
        if record.result is not None:
            text.append("Every step came from the cache: nothing changed, so nothing was rebuilt.")
        else:
            text.append("So far every step came from the cache.", style="dim")
        return text
    text.append(f"First miss: step {first.step}/{first.total} ", style="bold")
    text.append(f"“{' '.join(first.instruction.split())}”", style="bold yellow")
    if why:
        text.append(f" {why.rstrip('.')}")
    text.append(".\n")
    later = [s for s in steps if s.step > first.step and s.status in (BUILT, FAILED)]
    if later:
        span = f"{later[0].step}" if len(later) == 1 else f"{later[0].step}-{later[-1].step}"
        text.append(
            f"Then step{'s' if len(later) > 1 else ''} {span} rebuilt as a consequence: "
            "each layer sits on the one before it, so a new parent means a new layer."
        )
    elif record.result is not None or record.failure is not None:
        text.append("No later step needed rebuilding.")
    return text


class CachePane(VerticalScroll, can_focus=False):
    """A scroll view, so that a screen short of rows may cap its height: a long why then scrolls."""

    DEFAULT_CSS = """
    CachePane { height: auto; min-height: 3; padding: 0 1; scrollbar-size-vertical: 1; }
    CachePane > Static { height: auto; }
    """

    _record: BuildRecord | None = None
    _explanation: str | None = None

    def compose(self):
        yield Static(id="cache-text")

    def on_mount(self) -> None:
        self.border_title = "Cache"
        self.show(BuildRecord())

    @property
    def text(self) -> str:
        """What the pane says, as plain text."""
        return str(self.query_one("#cache-text", Static).render())

    def show(self, record: BuildRecord, explanation: str | None = None) -> None:
        self._record, self._explanation = record, explanation
        width = self.scrollable_content_region.width or None  # 0 before the first layout: the full bar
        update_in_place(self.query_one("#cache-text", Static), describe(record, explanation=explanation, width=width))

    def on_resize(self) -> None:
        if self._record is not None:
            self.show(self._record, self._explanation)
