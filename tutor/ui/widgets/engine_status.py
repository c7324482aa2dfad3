"""One line that says whether builds can work: the engine, and the course's base images."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from tutor import fmt

if TYPE_CHECKING:
    from tutor.engine.doctor import DoctorReport


def describe(report: DoctorReport | None) -> Text:
    text = Text()
    if report is None:
        text.append("◌ Engine: checking…", style="dim")
        return text
    engine = report.engine
    if not engine.reachable:
        text.append("✗ Engine not reachable", style="bold red")
        if report.problems:
            text.append(f": {report.problems[0].what} ", style="red")
            text.append(f"Fix: {report.problems[0].fix}", style="")
        return text
    text.append("● ", style="bold green")
    text.append(f"Docker {engine.version} ({fmt.engine_label(engine.url)})")
    for image in report.images:
        text.append("  ·  ")
        style = {"present": "green", "stand-in": "yellow", "missing": "bold red"}.get(image.state, "")
        text.append(image.name)
        text.append(f" {image.state}", style=style)
    if report.disk_free is not None and not report.ok:
        text.append(f"  ·  disk {fmt.size(report.disk_free)} free")
    return text


class EngineStatus(Static):
    DEFAULT_CSS = """
    EngineStatus { height: auto; padding: 0 1; background: $boost; }
    """

    report: reactive[DoctorReport | None] = reactive(None, always_update=True, layout=True)

    def on_mount(self) -> None:
        # A screen opened later starts from the app's latest report, not from "checking".
        self.report = getattr(self.app, "engine_report", None)

    def render(self) -> Text:
        return describe(self.report)
