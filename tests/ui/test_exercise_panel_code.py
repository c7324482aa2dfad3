"""Goals and hints show markdown's inline code as code, without the backticks."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from tutor.course.loader import load_course
from tutor.ui.widgets.exercise_panel import CODE_STYLE, exercise_text, inline_code

ROOT = Path(__file__).resolve().parents[2]


def test_code_spans_lose_their_backticks_and_keep_a_style() -> None:
    shown = inline_code("Keep the `builder` stage, and add `FROM builder AS local`.")
    assert shown.plain == "Keep the builder stage, and add FROM builder AS local."
    styled = [shown.plain[span.start : span.end] for span in shown.spans if span.style == CODE_STYLE]
    assert styled == ["builder", "FROM builder AS local"]
    assert inline_code("an odd ` backtick").plain == "an odd ` backtick"  # not code: as written


def test_a_shipped_goal_and_its_hints_read_without_backticks() -> None:
    lesson = load_course(ROOT / "lessons").lesson("buildkit")
    assert lesson is not None
    exercise = lesson.exercise("one-file-three-images")
    assert exercise is not None and "`" in exercise.goal
    console = Console(width=60, record=True, color_system=None)
    console.print(exercise_text(lesson, exercise, None, list(exercise.hints)))
    text = console.export_text()
    assert "`" not in text
    assert "give the file three targets: local (FROM builder:" in " ".join(text.split())
