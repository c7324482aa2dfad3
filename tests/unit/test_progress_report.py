"""`tutor progress` says the course is done when every exercise is passed."""

from __future__ import annotations

import io
import json

from tests.ui.conftest import UI_COURSE
from tutor.commands.progress import show
from tutor.course.loader import load_course
from tutor.course.progress import ProgressStore


def _pass_all(store: ProgressStore, course) -> None:
    for lesson in course.lessons:
        for exercise in lesson.exercises:
            store.record_attempt(lesson.id, exercise.id, True, 1.0)
            store.set_current(lesson.id, exercise.id)


def test_a_finished_course_is_done_not_next() -> None:
    course, store = load_course(UI_COURSE), ProgressStore()
    _pass_all(store, course)
    out = io.StringIO()
    assert show(course, store, out=out, seat="pytest") == 0
    text = out.getvalue()
    assert "the course is done: all 2 exercises passed" in text
    assert "next:" not in text
    data = io.StringIO()
    show(course, store, as_json=True, out=data, seat="pytest")
    assert json.loads(data.getvalue())["done"] is True


def test_an_unfinished_course_says_what_is_next() -> None:
    course, store = load_course(UI_COURSE), ProgressStore()
    store.record_attempt("first-build", "build-it", True, 1.0)
    out = io.StringIO()
    show(course, store, out=out, seat="pytest")
    assert "next: first-build / two-stages" in out.getvalue() and "done" not in out.getvalue().splitlines()[-1]
