"""The seat is handed down from where a process starts: nothing below reads TUTOR_SEAT for it."""

from __future__ import annotations

import io

import pytest

from tests.ui.conftest import UI_COURSE
from tutor.commands import build as build_command
from tutor.commands.progress import show
from tutor.course.loader import load_course
from tutor.course.progress import ProgressStore
from tutor.engine import labels as tl
from tutor.engine import seat_rules, sizerace
from tutor.engine.containers import actions


class _Api:
    """Records what the engine was asked to create, then refuses to go further."""

    def __init__(self) -> None:
        self.labels: dict[str, str] | None = None

    def create_container(self, image, command=None, labels=None, **_kw):
        self.labels = dict(labels or {})
        raise RuntimeError("stop here")


def test_a_measurement_is_labelled_with_the_seat_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTOR_SEAT", "someone-else")
    api = _Api()
    with pytest.raises(sizerace.MeasureError):
        sizerace.binary_size(api, "img", seat="mine")  # type: ignore[arg-type]  # a stand-in client
    assert api.labels is not None and api.labels[tl.SEAT] == "mine"


def test_a_container_without_a_seat_is_refused_not_guessed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTOR_SEAT", "someone-else")
    with pytest.raises(actions.ContainerError, match="no seat"):
        actions.run_container(None, "img")  # type: ignore[arg-type]  # refused before the engine is asked


def test_a_build_request_carries_the_seat_it_is_given(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("TUTOR_SEAT", "someone-else")
    request = build_command.request_from_args(str(tmp_path), None, None, False, None, seat="mine")
    assert request.labels[tl.SEAT] == "mine"
    assert request.tag is not None and request.tag.startswith("tutor/mine/")


def test_an_unlabelled_build_may_read_no_seat_s_images(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("TUTOR_SEAT", "pytest")  # the environment's seat is not taken for the build's
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM tutor/pytest/app\n")
    refused = seat_rules.refused_build(dockerfile, None)
    assert refused is not None and "seat pytest" in refused.message
    assert seat_rules.refused_build(dockerfile, "pytest") is None


def test_progress_names_the_seat_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTOR_SEAT", "someone-else")
    out = io.StringIO()
    show(load_course(UI_COURSE), ProgressStore(), out=out, seat="mine")
    assert "progress of seat mine:" in out.getvalue()
