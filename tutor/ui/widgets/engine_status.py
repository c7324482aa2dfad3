"""One line that says whether builds can work: the engine, and the course's base images."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from tutor import fmt

if TYPE_CHECKING:
    from tutor.engine.doctor import DoctorReport

IMAGE_STYLES = {"present": "green", "stand-in": "yellow", "missing": "bold red"}


def short_version(version: str) -> str:
    """``26.1.5+dfsg1`` -> ``26.1.5``: a distribution's build suffix says nothing to a learner."""
    return version.split("+", 1)[0].split("~", 1)[0]


def builder_words(builder: str | None, report: DoctorReport) -> tuple[str, str, str]:
    """What builds the exercises on this engine (in full, in short) and its style: ``auto``
    becomes what it picks."""
    if builder == "classic" or builder is None:
        return "classic builder", "classic", ""
    if report.engine.buildkit:
        return "BuildKit", "BuildKit", ""
    if builder == "auto":
        return "classic builder (no BuildKit here)", "classic", ""
    return "BuildKit unavailable here", "no BuildKit", "bold red"


def _reachable(report: DoctorReport, detail: int, builder: str | None = None) -> Text:
    """The status of a reachable engine; a lower ``detail`` says less, for narrow terminals."""
    engine = report.engine
    sep = "  ·  " if detail >= 3 else " · "
    text = Text()
    text.append("● ", style="bold green")
    version = short_version(engine.version or "")
    where = fmt.engine_label(engine.url)
    text.append(f"Docker {version} ({where})" if detail >= 1 else f"Docker {version}")
    if builder is not None:
        words, short, style = builder_words(builder, report)
        text.append(sep)
        text.append(words if detail >= 1 else short, style=style)
    states = [image.state for image in report.images]
    if detail >= 2 or len(set(states)) > 1:
        for image in report.images:
            text.append(sep)
            text.append(image.name if detail >= 2 else image.name.split(":", 1)[0])
            text.append(f" {image.state}", style=IMAGE_STYLES.get(image.state, ""))
    elif states:
        # Every base image in the same state: say it once.
        state = states[0]
        text.append(sep)
        text.append(f"{len(states)} base images " if len(states) > 1 else "base image ")
        plural = "s" if len(states) > 1 and state == "stand-in" else ""
        text.append(f"{state}{plural}", style=IMAGE_STYLES.get(state, ""))
    if report.disk_free is not None and not report.ok:
        text.append(f"{sep}disk {fmt.size(report.disk_free)} free")
    return text


def describe(report: DoctorReport | None, width: int | None = None, builder: str | None = None) -> Text:
    """The status line; with ``width``, the most detailed one that fits on one line."""
    text = Text()
    if report is None:
        text.append("◌ Engine: checking…", style="dim")
        return text
    engine = report.engine
    if not engine.reachable:
        # Rare and blocking: the reason and its fix matter more than one line, so this may wrap.
        text.append("✗ Engine not reachable", style="bold red")
        if report.problems:
            text.append(f": {report.problems[0].what} ", style="red")
            text.append(f"Fix: {report.problems[0].fix}", style="")
        return text
    for detail in (3, 2, 1, 0):
        text = _reachable(report, detail, builder)
        if width is None or text.cell_len <= width:
            return text
    if width is not None:
        text.truncate(width, overflow="ellipsis")
    return text


class EngineStatus(Static):
    DEFAULT_CSS = """
    EngineStatus { height: auto; padding: 0 1; background: $boost; }
    """

    report: reactive[DoctorReport | None] = reactive(None, always_update=True, layout=True)
    builder: reactive[str | None] = reactive(None, layout=True)  # how the exercises build; None: not said

    def on_mount(self) -> None:
        # A screen opened later starts from the app's latest report, not from "checking".
        self.report = getattr(self.app, "engine_report", None)
        self.builder = getattr(self.app, "builder", None)

    def on_resize(self) -> None:
        self.refresh(layout=True)  # a narrower terminal may need the shorter line

    def render(self) -> Text:
        return describe(self.report, self.size.width or None, self.builder)
