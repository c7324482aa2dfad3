"""The exercise's Dockerfile, highlighted, with line numbers and the running step marked."""

from __future__ import annotations

from rich.syntax import Syntax
from textual.containers import VerticalScroll
from textual.widgets import Static


class DockerfileView(VerticalScroll):
    DEFAULT_CSS = """
    DockerfileView { height: 1fr; }
    DockerfileView > Static { width: auto; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._text: str | None = None  # None: nothing shown yet
        self._marked: set[int] = set()

    def compose(self):
        yield Static(id="dockerfile-code")

    def show(self, text: str, title: str = "Dockerfile", marked: set[int] | None = None) -> None:
        resized = text != self._text  # other lines: another size (the code is as wide as its text)
        self._text = text
        self._marked = marked or set()
        self.border_title = title
        self._show_code(layout=resized)

    def mark(self, lines: set[int]) -> None:
        if lines != self._marked:
            self._marked = lines
            self._show_code(layout=False)  # the same lines, highlighted otherwise: the same size

    def _show_code(self, layout: bool = True) -> None:  # not `_render`: that name is Textual's own
        syntax = Syntax(
            self._text or "# (no Dockerfile yet)",
            "docker",
            line_numbers=True,
            highlight_lines=self._marked,
            word_wrap=False,
            theme="ansi_dark",
            background_color="default",
        )
        self.query_one("#dockerfile-code", Static).update(syntax, layout=layout)
