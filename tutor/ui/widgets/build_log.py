"""The build log: the engine's output with its colours, bounded in memory."""

from __future__ import annotations

import re

from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widgets import Log

from tutor.engine.stream import strip_ansi

_CONTROL = re.compile("[\u0000-\u0008\u000b-\u001a\u001c-\u001f]")
MAX_LINES = 5000


class BuildLog(Log):
    """A ``Log`` that renders ANSI colours (the stock one shows escape codes as �).

    It keeps Log's virtual rendering (only visible lines are drawn) and its
    ``max_lines`` bound, and follows the tail unless the learner scrolled up.
    """

    def __init__(self, max_lines: int = MAX_LINES, **kwargs) -> None:
        super().__init__(max_lines=max_lines, highlight=False, **kwargs)

    def on_mount(self) -> None:
        self.border_title = "Build log"

    @classmethod
    def _process_line(cls, line: str) -> str:
        # Used for widths: measure the text as it will show, without escape codes.
        return _CONTROL.sub("", strip_ansi(line).expandtabs())

    def _render_line_strip(self, y: int, rich_style: Style) -> Strip:
        raw = _CONTROL.sub("", self._lines[y].expandtabs())
        text = Text.from_ansi(raw, no_wrap=True, end="")
        text.stylize_before(rich_style)
        return Strip(text.render(self.app.console), text.cell_len)
