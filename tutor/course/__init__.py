"""The course: lessons as data, their validation, workspaces, checks and exercise runs.

Pure Python on top of ``tutor.engine``; never imports Textual or ``tutor.ui``.
"""

from tutor.course.loader import load_course, load_lesson
from tutor.course.model import Check, Course, Exercise, HadolintSpec, HttpSpec, Lesson, LessonProblem
from tutor.course.validator import validate

__all__ = [
    "Check",
    "Course",
    "Exercise",
    "HadolintSpec",
    "HttpSpec",
    "Lesson",
    "LessonProblem",
    "load_course",
    "load_lesson",
    "validate",
]
