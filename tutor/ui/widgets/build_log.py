"""The build log: the engine's output with its colours, bounded in memory."""

from __future__ import annotations

import re
import textwrap
import time
from collections.abc import Iterable
from functools import lru_cache

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import Log

from tutor.engine.stream import strip_ansi

_CONTROL = re.compile("[\u0000-\u0008\u000b-\u001a\u001c-\u001f]")
MAX_LINES = 5000
PAINT_EVERY = 0.1  # seconds: ten paints a second are plenty for text scrolling past


@lru_cache(maxsize=1024)
def _line_strip(line: str, rich_style: Style, console) -> Strip:
    """A log line drawn with its colours.  Cached: while output streams, the same visible lines
    are drawn frame after frame as the view follows the tail."""
    raw = _CONTROL.sub("", line.expandtabs())
    if "\x1b" not in raw:  # most lines: no colours to parse
        return Strip([Segment(raw, rich_style)], cell_len(raw))
    text = Text.from_ansi(raw, no_wrap=True, end="")
    text.stylize_before(rich_style)
    return Strip(text.render(console), text.cell_len)


NOTE = "── "  # how the tutor's own notes start in a log, unlike the engine's output


class BuildLog(Log):
    """A ``Log`` that renders ANSI colours (the stock one shows escape codes as �).

    It keeps Log's virtual rendering (only visible lines are drawn) and its
    ``max_lines`` bound, and follows the tail unless the learner scrolled up.
    """

    def __init__(self, max_lines: int = MAX_LINES, **kwargs) -> None:
        super().__init__(max_lines=max_lines, highlight=False, **kwargs)
        self._last_paint = 0.0
        self._paint_timer: Timer | None = None
        self._follow = False
        self._tail_shown = True  # the last line is in view (the learner has not scrolled up)

    def on_mount(self) -> None:
        self.border_title = "Build log"

    def write_lines(self, lines: Iterable[str], scroll_end: bool | None = None) -> BuildLog:
        """Append lines in one pass, whatever their number.

        The stock method refreshes and measures every new line (and starts a
        thread to do it); a step printing 100,000 lines would keep the UI busy.
        Here only the lines that can stay (``max_lines``) are kept, measured and
        drawn, and the cache of drawn lines is dropped at once.
        """
        at_end = self.is_vertical_scroll_end
        new: list[str] = []
        for line in lines:
            new.extend(line.splitlines() or [""])
        if self.max_lines is not None and len(new) > self.max_lines:
            new = new[-self.max_lines :]
        if not new:
            return self
        self._lines.extend(new)
        if self.max_lines is not None and len(self._lines) > self.max_lines:
            del self._lines[: len(self._lines) - self.max_lines]
        widest = max(len(strip_ansi(line)) if "\x1b" in line else len(line) for line in new)
        self._width = max(self._width, widest)
        self._render_line_cache.clear()
        self._set_virtual_size(Size(self._width, len(self._lines)))
        follow = self.auto_scroll if scroll_end is None else scroll_end
        self._follow = self._follow or (follow and at_end and not self.is_vertical_scrollbar_grabbed)
        # At most PAINT_EVERY seconds between two paints: a stream of output would otherwise
        # have the log repainted every frame, and the keys wait behind the paints.
        wait = self._last_paint + PAINT_EVERY - time.monotonic()
        if wait <= 0:
            self._paint()
        elif self._paint_timer is None:
            self._paint_timer = self.set_timer(wait, self._paint)
        return self

    def write_line(self, line: str, scroll_end: bool | None = None) -> BuildLog:
        """A line of the engine's output keeps its columns; a note of the tutor's own (`── ...`),
        whoever writes it, wraps to the log's width so that it is read whole."""
        if line.startswith(NOTE) and "\n" not in line:
            return self.write_wrapped(line[len(NOTE) :], prefix=NOTE)
        return self.write_lines([line], scroll_end)

    def write_wrapped(self, text: str, prefix: str = "", style: str = "") -> BuildLog:
        """A message of the tutor's own (a failure, a fix), wrapped to the log's width: such lines
        are read whole, unlike a step's output, which keeps its columns and scrolls sideways."""
        width = max((self.scrollable_content_region.width or self.size.width) - 1, 30)
        lines = textwrap.wrap(
            text,
            width=width,
            initial_indent=prefix,
            subsequent_indent=" " * min(len(prefix), 8),
            break_on_hyphens=False,  # an image tag (multi-stage-split-the-build) reads whole
        ) or [prefix]
        if style:
            lines = [f"{style}{line}\x1b[0m" for line in lines]
        return self.write_lines(lines)

    def _set_virtual_size(self, size: Size) -> None:
        """The log's own size is fixed by the screen (height 1fr): more lines change only its
        scrollbars. Setting ``virtual_size`` would lay out the whole screen for each batch, as
        Textual does for any widget; this updates the scrollbars alone, as Textual's own resize
        path does (a scrollbar that appears or goes still asks for a layout)."""
        if size == self.virtual_size:
            return
        if not (self.is_mounted and self.container_size and hasattr(self, "_scroll_update")):
            self.virtual_size = size
            return
        self.set_reactive(Log.virtual_size, size)
        self._scroll_update(size)

    def _paint(self) -> None:
        self._paint_timer = None
        self._last_paint = time.monotonic()
        if self._follow:
            # Scroll first, then draw: the frame shows the tail, not the old offset. A layout
            # queued meanwhile may change the log's room (a pane above grew): the tail is checked
            # again after it.
            self.scroll_end(animate=False, immediate=True, x_axis=False)
            self.call_after_refresh(self._keep_tail)
        self._follow = False
        self.refresh()

    def _keep_tail(self) -> None:
        if self.scroll_y < self.max_scroll_y:
            self._show_tail()

    def _show_tail(self) -> None:
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()  # the lines drawn for the old offset are stale

    @property
    def settled(self) -> bool:
        """No paint is pending and, unless the learner scrolled up, the tail is in view."""
        return self._paint_timer is None and (not self._tail_shown or self.scroll_y >= self.max_scroll_y)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._tail_shown = new_value >= self.max_scroll_y - 1

    def on_resize(self) -> None:
        # A pane above grew (the cache pane's explanation at the end of a build): the log got
        # shorter under the same scroll offset. Keep showing the tail if it was shown.
        if self._tail_shown:
            self._show_tail()

    def clear(self) -> BuildLog:
        if self._paint_timer is not None:
            self._paint_timer.stop()
            self._paint_timer = None
        self._follow = False
        self._tail_shown = True
        super().clear()
        return self

    @classmethod
    def _process_line(cls, line: str) -> str:
        # Used for widths: measure the text as it will show, without escape codes.
        return _CONTROL.sub("", strip_ansi(line).expandtabs())

    def _render_line_strip(self, y: int, rich_style: Style) -> Strip:
        return _line_strip(self._lines[y], rich_style, self.app.console)
