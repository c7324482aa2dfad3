"""Messages that travel up from workers and widgets.  Plain dataclasses, no widgets inside."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from tutor.engine.doctor import DoctorReport


@dataclass
class BuildEventsReady(Message):
    """Events of build ``build_id`` wait in the screen's channel."""

    build_id: int


@dataclass
class BuildEnded(Message):
    """The build worker returned (success, failure or cancel: see the record)."""

    build_id: int


@dataclass
class EngineStatusChanged(Message):
    report: DoctorReport


@dataclass
class LessonChosen(Message):
    lesson_id: str


@dataclass
class ContinueChosen(Message):
    """The learner asked to carry on: the next exercise not passed yet."""
