"""A seat's rules and readiness: build contexts stay in the workspace, the preflight says what blocks
the seat and how to fix it, browser seats get names of their own."""

from __future__ import annotations

import json
import os
import random
import threading
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT
from tutor.course.loader import load_course
from tutor.engine.doctor import check, report_from_dict
from tutor.workshop import browser_seat
from tutor.workshop.config import KioskConfig, hash_pin
from tutor.workshop.preflight import dockerfile_images, needed_images, preflight
from tutor.workshop.safety import UnsafeContext, check_build_context, is_within, port_candidates

UI_COURSE = FIXTURES / "courses" / "ui"


@pytest.fixture(scope="module")
def a_hash() -> str:
    return hash_pin("7391")


@pytest.fixture
def report():
    return report_from_dict(json.loads((FIXTURES / "doctor_connected.json").read_text()))


@pytest.fixture
def config(tmp_path, a_hash) -> KioskConfig:
    return KioskConfig(seat="s1", pin_hash=a_hash, export_dir=tmp_path / "exports", port_range=(18400, 18420))


# -- build contexts ----------------------------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path) -> Path:
    root = tmp_path / "workspace"
    context = root / "lesson" / "exercise"
    context.mkdir(parents=True)
    (context / "Dockerfile").write_text("FROM alpine:latest\n")
    (context / "main.go").write_text("package main\n")
    return root


def test_a_context_inside_the_workspace_passes(workspace):
    context = workspace / "lesson" / "exercise"
    (context / "sub").mkdir()
    os.symlink("../main.go", context / "sub" / "link.go")  # a link that stays inside is fine
    check_build_context(context, workspace, "Dockerfile")


def test_a_link_pointing_outside_is_refused_with_a_clear_message(workspace):
    context = workspace / "lesson" / "exercise"
    (context / "deep").mkdir()
    os.symlink("/etc/passwd", context / "deep" / "passwd")
    with pytest.raises(UnsafeContext) as err:
        check_build_context(context, workspace, "Dockerfile")
    assert "deep/passwd is a symbolic link to /etc/passwd, outside this seat's workspace" in err.value.message
    assert "remove the link" in err.value.fix


def test_a_linked_folder_and_a_dangling_link_outside_are_refused(workspace, tmp_path):
    context = workspace / "lesson" / "exercise"
    other = tmp_path / "other-seat"
    other.mkdir()
    os.symlink(other, context / "peek")
    with pytest.raises(UnsafeContext, match="peek is a symbolic link"):
        check_build_context(context, workspace)
    os.unlink(context / "peek")
    os.symlink("/nonexistent/elsewhere", context / "dangling")
    with pytest.raises(UnsafeContext, match="dangling is a symbolic link"):
        check_build_context(context, workspace)


def test_a_context_or_dockerfile_outside_the_workspace_is_refused(workspace, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    with pytest.raises(UnsafeContext, match="lies outside this seat's workspace"):
        check_build_context(outside, workspace)
    # The context itself a link out of the workspace:
    os.symlink(outside, workspace / "lesson" / "escape")
    with pytest.raises(UnsafeContext, match="lies outside"):
        check_build_context(workspace / "lesson" / "escape", workspace)
    context = workspace / "lesson" / "exercise"
    (context / "Dockerfile").unlink()
    os.symlink(outside / "Dockerfile", context / "Dockerfile")
    with pytest.raises(UnsafeContext, match="the Dockerfile .* points outside"):
        check_build_context(context, workspace, "Dockerfile")


def test_is_within_does_not_confuse_prefixes(tmp_path):
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws-other").mkdir()
    assert is_within(tmp_path / "ws", tmp_path / "ws")
    assert not is_within(tmp_path / "ws-other", tmp_path / "ws")


def test_ports_come_from_the_range_only():
    ports = port_candidates((18400, 18409), random.Random(3))
    assert sorted(ports) == list(range(18400, 18410))
    assert port_candidates((18400, 18400)) == [18400]


# -- the preflight -----------------------------------------------------------------------------------------


def test_images_a_dockerfile_needs():
    text = (
        "FROM --platform=linux/amd64 golang:1.24-alpine AS builder\nRUN go build\n"
        "FROM builder AS test\nFROM scratch\nARG BASE=alpine\nFROM ${BASE}\nfrom python:3.12-slim\n"
    )
    assert dockerfile_images(text) == ["golang:1.24-alpine", "python:3.12-slim"]


def test_the_shipped_course_needs_the_two_base_images():
    course = load_course(ROOT / "lessons")
    assert set(needed_images(course)) == {"golang:1.24-alpine", "alpine:latest"}


def test_a_ready_seat(config, report):
    result = preflight(config, load_course(UI_COURSE), report)
    assert result.ok and result.headline() == "seat ready"
    assert config.export_dir.is_dir()


def test_no_engine_means_not_ready_with_the_doctors_fix(config):
    result = preflight(config, load_course(UI_COURSE), check("unix:///nonexistent/tutor-preflight.sock"))
    assert not result.ok
    assert result.headline().startswith("seat not ready: No Docker engine socket at /nonexistent/tutor-preflight.sock")
    assert "Start the Docker engine" in result.problems[0].fix


def test_a_missing_base_image_names_the_bundle_as_fix(config, report):
    data = json.loads((FIXTURES / "doctor_connected.json").read_text())
    data["images"][0].update(state="missing", image_id=None, size=None, note="")
    data["problems"] = [{"what": "Base image golang:1.24-alpine is missing", "fix": "`tutor images load FILE`", "blocking": True}]
    result = preflight(config, load_course(UI_COURSE), report_from_dict(data))
    assert "golang:1.24-alpine is missing" in result.headline()
    assert "tutor images load" in result.problems[0].fix


def test_images_beyond_the_shipped_ones_are_asked_of_the_engine(config, report, tmp_path):
    course_dir = tmp_path / "course"
    lesson = course_dir / "01-py"
    (lesson / "app").mkdir(parents=True)
    (lesson / "app" / "Dockerfile").write_text("FROM python:3.12-slim\n")
    (lesson / "lesson.md").write_text(
        "---\nid: py\ntitle: Python\norder: 1\nexercises:\n  - id: build\n    title: Build\n    goal: build it\n"
        "    base: app\n    checks:\n      - build: succeeds\n---\nText.\n"
    )
    course = load_course(course_dir)
    assert not course.problems, course.problems
    asked: list[list[str]] = []

    def status(url, names):
        from tutor.engine.baseimages import BaseImageStatus

        asked.append(list(names))
        return [BaseImageStatus(n, "missing", None, None, "") for n in names]

    result = preflight(config, course, report, image_status=status)
    assert asked == [["python:3.12-slim"]]
    assert result.problems[0].what.startswith("base image python:3.12-slim is missing")


def test_config_problems(config, report, tmp_path, a_hash):
    from dataclasses import replace

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    result = preflight(replace(config, lessons=("first-build", "nope"), export_dir=blocked / "x"), load_course(UI_COURSE), report)
    whats = [p.what for p in result.problems]
    assert any("lessons the course does not have: nope" in w for w in whats)
    assert any(w.startswith(f"cannot save progress exports in {blocked / 'x'}") for w in whats)
    example = replace(config, pin_hash=hash_pin("2468"))
    assert "still the example's" in preflight(example, load_course(UI_COURSE), report).headline()


def test_a_range_with_no_free_port(config, report):
    import socket
    from dataclasses import replace

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = preflight(replace(config, port_range=(port, port)), load_course(UI_COURSE), report)
    assert any(f"range {port}-{port}" in p.what for p in result.problems)


# -- browser seats -----------------------------------------------------------------------------------------


def test_browser_seat_names():
    assert browser_seat.seat_name(1) == "otter-01"
    assert browser_seat.seat_name(21) == "otter-21"
    long = browser_seat.seat_name(3, "a-very-long-room-name-for-the-big-hall")
    assert long.endswith("-lynx-03") and len(long) <= 40


def test_every_tab_gets_its_own_seat_even_when_they_open_together(tmp_path):
    names: list[str] = []
    lock = threading.Lock()

    def take() -> None:
        name = browser_seat.next_seat(tmp_path, "room")
        with lock:
            names.append(name)

    threads = [threading.Thread(target=take) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(names)) == 12
    assert all((tmp_path / n).is_dir() for n in names)
    # A restarted server carries on after the seats it finds.
    (tmp_path / browser_seat.COUNTER).unlink()
    assert browser_seat.next_seat(tmp_path, "room") not in names
