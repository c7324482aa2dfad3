"""The lesson's text: markdown that scrolls, with the keyboard and the mouse wheel, to its last line.

Textual's Markdown widget is as tall as its text and never scrolls itself, so it sits in a
focusable scroll view. Code blocks wider than the pane (a `docker history` table) keep their
columns: they show a scrollbar and slide sideways with Left/Right, all together.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownFence

SIDEWAYS_STEP = 8  # columns per Left/Right press
TAB_SIZE = 8  # as a terminal shows `cat main.go`


def expand_code_tabs(body: str) -> str:
    """Tabs in code blocks become spaces before the text is highlighted.

    Textual's highlighter styles the text by offsets that Pygments counts with tabs expanded,
    while the text keeps its tabs: every tab of gofmt'd Go code shifted the colours after it."""
    lines = body.split("\n")
    for token in MarkdownIt("commonmark").parse(body):
        if token.type in ("fence", "code_block") and token.map is not None:
            start, end = token.map
            for n in range(start, min(end, len(lines))):
                lines[n] = lines[n].expandtabs(TAB_SIZE)
    return "\n".join(lines)


_HIGHLIGHTED: dict[tuple[str, str, bool, bool], Content] = {}  # the course's code blocks, highlighted


class LessonFence(MarkdownFence):
    """A code block highlighted once for each look (theme), not again on every restyle.

    Textual's fence runs Pygments and updates its label each time its styles are applied (its
    mount, each screen the lesson comes back from); the label's update lays out the whole screen.
    """

    def __init__(self, markdown: Markdown, token, code: str) -> None:
        super().__init__(markdown, token, code)
        self._content = self._highlighted_code  # what its label is composed with

    @classmethod
    def highlight(cls, code: str, language: str, ansi: bool = False, dark: bool = False) -> Content:
        key = (code, language, ansi, dark)
        if key not in _HIGHLIGHTED:
            _HIGHLIGHTED[key] = super().highlight(code, language, ansi, dark)
        return _HIGHLIGHTED[key]

    def set_content(self, content: Content) -> None:
        if content is not self._content:  # the same look: the label already shows it
            super().set_content(content)


class LessonMarkdown(Markdown):
    BLOCKS = {**Markdown.BLOCKS, "fence": LessonFence, "code_block": LessonFence}


class LessonText(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    LessonText { height: 1fr; scrollbar-size-vertical: 1; }
    LessonText:focus { background-tint: $foreground 0%; }
    LessonText > Markdown { padding: 0 1; }
    LessonText MarkdownFence { overflow-x: auto; scrollbar-size-horizontal: 1; }
    """

    BINDINGS = [
        Binding("space", "page_down", "Page down", show=False),
        Binding("shift+space", "page_up", "Page up", show=False),
        Binding("left", "sideways(-1)", "Code left", show=False),
        Binding("right", "sideways(1)", "Code right", show=False),
    ]

    def __init__(self, body: str, positions: dict[str, float], key: str, **kwargs) -> None:
        """`positions` is where each lesson was left, by `key`: read on opening, kept up to date."""
        super().__init__(**kwargs)
        self._body = expand_code_tabs(body)
        self._positions = positions
        self._key = key

    def compose(self):
        yield LessonMarkdown(self._body, id="lesson-markdown")

    def update(self, body: str) -> None:
        self._body = expand_code_tabs(body)
        self.query_one(Markdown).update(self._body)

    def watch_has_focus(self, _has_focus: bool) -> None:
        # Textual restyles the focused widget and every one inside it; only this one has a
        # :focus rule here, and the text holds a widget per block: a tab switch restyled them all.
        self.app.stylesheet.update_nodes([self], animate=True)

    def on_markdown_table_of_contents_updated(self, _message: Markdown.TableOfContentsUpdated) -> None:
        # The text is laid out once the next refresh is done: only then is there room to go back to.
        position = self._positions.get(self._key, 0.0)
        if position:
            self.call_after_refresh(self.scroll_to, y=position, animate=False)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._positions[self._key] = new_value

    def action_sideways(self, direction: int) -> None:
        """Slide every code block that is wider than the pane (text blocks already wrap)."""
        for fence in self.query(MarkdownFence):
            if fence.max_scroll_x > 0:
                fence.scroll_to(x=fence.scroll_x + direction * SIDEWAYS_STEP, animate=False)
