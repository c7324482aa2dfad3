"""The course map: every lesson in order with its progress mark, and the engine status."""

from __future__ import annotations

from rich.console import Group
from rich.padding import Padding
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from tutor.course.model import Course
from tutor.ui.messages import ContinueChosen, LessonChosen
from tutor.ui.widgets.engine_status import EngineStatus
from tutor.ui.widgets.footer import KeysFooter

MARKS = {"passed": ("✓", "green"), "attempted": ("◐", "yellow"), "new": ("·", "dim")}


def lesson_label(number: int, title: str, summary: str, state: str, current: bool) -> Group:
    mark, style = MARKS.get(state, MARKS["new"])
    text = Text()
    text.append(f" {mark} ", style=f"bold {style}")
    text.append(f"{number}. {title}", style="bold" if current else "")
    if current:
        text.append("  ← you are here", style="italic cyan")
    if not summary:
        return Group(text)
    # Padded rather than prefixed with spaces, so a long summary wraps under itself.
    return Group(text, Padding(Text(summary, style="dim"), (0, 0, 0, 5)))


class CourseMapScreen(Screen):
    CSS_PATH = "course_map.tcss"
    BINDINGS = [
        Binding("enter", "open", "Open lesson", show=True),
        Binding("c", "continue", "Continue"),
    ]

    def __init__(self, course: Course, states: dict[str, str], current: str | None, passed: int = 0) -> None:
        super().__init__()
        self.course = course
        self.states = states
        self.current = current
        self.passed = passed  # exercises passed

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="map"):
            yield Static(self._intro(), id="intro")
            yield OptionList(id="lessons")
            yield Static(id="course-problems")
        yield EngineStatus(id="engine-status")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.refresh_course(self.course, self.states, self.current)
        self.query_one("#lessons", OptionList).focus()

    # -- attributes down -------------------------------------------------------------------

    def refresh_course(self, course: Course, states: dict[str, str], current: str | None, passed: int | None = None) -> None:
        self.course, self.states, self.current = course, states, current
        if passed is not None:
            self.passed = passed
        self.query_one("#intro", Static).update(self._intro())
        options = self.query_one("#lessons", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        for number, lesson in enumerate(course.lessons, start=1):
            label = lesson_label(number, lesson.title, lesson.summary, states.get(lesson.id, "new"), lesson.id == current)
            options.add_option(Option(label, id=lesson.id))
        ids = [lesson.id for lesson in course.lessons]
        if current in ids:
            options.highlighted = ids.index(current)
        elif highlighted is not None and ids:
            options.highlighted = min(highlighted, len(ids) - 1)
        elif ids:
            options.highlighted = 0
        problems = self.query_one("#course-problems", Static)
        if course.problems:
            text = Text("Some lessons could not be loaded and are skipped:\n", style="bold yellow")
            for problem in course.problems[:6]:
                text.append(f"  ⚠ {problem}\n", style="yellow")
            problems.update(text)
            problems.display = True
        else:
            problems.display = False

    def _intro(self) -> Text:
        done = sum(1 for lesson in self.course.lessons if self.states.get(lesson.id) == "passed")
        text = Text()
        text.append("How Docker images are made", style="bold")
        text.append(f"  ·  {len(self.course.lessons)} lessons, {done} done", style="dim")
        exercises = sum(len(lesson.exercises) for lesson in self.course.lessons)
        if exercises:
            text.append(f" · {self.passed}/{exercises} exercises passed", style="dim")
        text.append("\n")
        text.append("Every build here is a real build on your Docker engine. Pick a lesson and press Enter.", style="")
        return text

    # -- actions ---------------------------------------------------------------------------

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.post_message(LessonChosen(event.option.id))

    def action_open(self) -> None:
        options = self.query_one("#lessons", OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            if option.id:
                self.post_message(LessonChosen(option.id))

    def action_continue(self) -> None:
        self.post_message(ContinueChosen())
