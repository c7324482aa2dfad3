"""Exercises done with the docker CLI, on a real engine: the docker-commands lesson's sequence typed
with the docker CLI (and through the docker prompt at a workshop seat), its checks ticking as the
engine changes, and `tutor lessons check --run` typing the solution commands itself.

Everything runs on a private engine (tests/second_engine.py) holding the base images only: the lesson is
copied with a small alpine app as its base (busybox's httpd answers on 8080), so each build takes
a second; the checks and the commands are the shipped lesson's, but for the host port.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import docker
import pytest

from tests.conftest import ROOT, missing
from tests.second_engine import SecondEngine, free_tcp_port, second_engine
from tutor.commands import lessons as lessons_command
from tutor.course.engine_exercise import (
    EngineLooked,
    drive_lesson,
    exercise_names,
    remove_exercise_objects,
    run_command,
    watch_engine_exercise,
)
from tutor.course.loader import load_course
from tutor.course.model import Lesson
from tutor.engine.course_images import COURSE_BASE_IMAGES
from tutor.engine.docker_cli import CommandEnded, DockerCommand, EngineOwners, command_env
from tutor.workshop.docker_prompt_rules import Allowed, PromptRules, decide

DOCKERFILE = 'FROM alpine:latest\nWORKDIR /app\nCOPY index.html ./\nEXPOSE 8080\nCMD ["httpd", "-f", "-p", "8080", "-h", "/app"]\n'


@pytest.fixture(scope="module")
def engine(engine_api: docker.APIClient) -> Iterator[SecondEngine]:
    if os.geteuid() != 0:
        missing("a private engine needs root and dockerd")
    with second_engine() as private:
        api = docker.APIClient(base_url=private.url, version="auto", timeout=300)
        for image in COURSE_BASE_IMAGES:  # `lessons check --run` wants them all before it starts
            api.load_image(engine_api.get_image(image))
        api.close()
        yield private


@pytest.fixture
def private_api(engine: SecondEngine) -> Iterator[docker.APIClient]:
    api = docker.APIClient(base_url=engine.url, version="auto", timeout=60)
    yield api
    api.close()


@pytest.fixture
def course(tmp_path: Path) -> tuple[Path, int]:
    """The shipped docker-commands lesson on a small alpine app, publishing on a free host port."""
    port = free_tcp_port()
    folder = tmp_path / "course" / "06-docker-commands"
    (folder / "app").mkdir(parents=True)
    (folder / "app" / "Dockerfile").write_text(DOCKERFILE)
    (folder / "app" / "index.html").write_text("Hello, Docker with Go!\n")
    text = (ROOT / "lessons" / "05b-docker-commands" / "lesson.md").read_text(encoding="utf-8")
    text = text.replace("base: go_app", "base: app").replace("- docker run -d -p 8080:8080", f"- docker run -d -p {port}:8080")
    (folder / "lesson.md").write_text(text, encoding="utf-8")
    return tmp_path / "course", port


def lesson_of(root: Path) -> Lesson:
    course = load_course(root)
    assert not course.problems, course.problems
    lesson = course.lesson("docker-commands")
    assert lesson is not None
    return lesson


def test_each_step_typed_with_the_docker_cli_ticks_its_checks(engine: SecondEngine, private_api: docker.APIClient, course: tuple[Path, int], tmp_path: Path) -> None:
    root, port = course
    lesson = lesson_of(root)
    workspace = tmp_path / "ws"
    shutil.copytree(root / "06-docker-commands" / "app", workspace)
    seen: list[str] = []
    try:
        for done in drive_lesson(lesson, workspace, engine.url, dict(os.environ)):
            assert all(ran.exit_code == 0 for ran in done.commands), done.commands
            assert not all(r.passed for r in done.before), (done.exercise.id, [r.describe() for r in done.before])
            assert all(r.passed for r in done.after), (done.exercise.id, [r.describe() for r in done.after])
            seen.append(done.exercise.id)
            said = {r.name: r.sentence for r in done.after}
            if done.exercise.id == "run-unpublished":
                assert said["port_unpublished quiet :8080"].startswith("quiet runs, and port 8080 is not published")
            if done.exercise.id == "run-published":
                assert said["container_running hello myapp :8080"] == (
                    f'hello is running, port 8080 published on {port}, and it answered 200 "Hello, Docker with Go!"'
                )
        assert seen == [e.id for e in lesson.exercises]
        assert not [c for c in private_api.containers(all=True) if c["Names"][0] in ("/hello", "/quiet")]
        assert not private_api.images(name="myapp")
    finally:
        remove_exercise_objects(private_api, exercise_names(lesson.exercises))


def test_the_watch_ticks_from_the_engines_events(engine: SecondEngine, private_api: docker.APIClient, course: tuple[Path, int], tmp_path: Path) -> None:
    """The watcher polls only every minute here: the tick comes from the events stream."""
    root, port = course
    lesson = lesson_of(root)
    workspace = tmp_path / "ws"
    shutil.copytree(root / "06-docker-commands" / "app", workspace)
    names = exercise_names(lesson.exercises)
    exercise = lesson.exercise("run-published")
    assert exercise is not None
    stop = threading.Event()
    looked: list[EngineLooked] = []
    first = threading.Event()
    ticked = threading.Event()

    def watch() -> None:
        for event in watch_engine_exercise(lesson, exercise, workspace, stop, engine=engine.url, poll=60):
            assert isinstance(event, EngineLooked), event
            looked.append(event)
            first.set()
            if event.passed:
                ticked.set()

    try:
        assert run_command("docker build -t myapp .", workspace, engine.url, dict(os.environ)).exit_code == 0
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        assert first.wait(30)
        assert not looked[0].passed and "No container hello" in looked[0].results[0].sentence
        ran = run_command(f"docker run -d -p {port}:8080 --name hello myapp", workspace, engine.url, dict(os.environ))
        assert ran.exit_code == 0, ran
        assert ticked.wait(30), [r.sentence for e in looked for r in e.results]
        assert looked[-1].reason.startswith("container"), looked[-1].reason  # an event woke it, not the poll
        assert f"container hello of myapp: running, {port}->8080" in looked[-1].objects
    finally:
        stop.set()
        remove_exercise_objects(private_api, names)
    assert not private_api.images(name="myapp") and not private_api.containers(all=True, filters={"name": "hello"})


def test_the_sequence_through_the_docker_prompt_at_a_workshop_seat(engine: SecondEngine, private_api: docker.APIClient, course: tuple[Path, int], tmp_path: Path) -> None:
    """At a kiosk the prompt labels what it makes with the seat; the checks find it by its names."""
    root, port = course
    lesson = lesson_of(root)
    workspace = tmp_path / "seats" / "ws"
    shutil.copytree(root / "06-docker-commands" / "app", workspace)
    rules = PromptRules("kiosk-1", True, (port, port), workspace.parent)
    owners = EngineOwners(engine.url)
    environ = dict(os.environ)
    prompt_lesson = replace(
        lesson,
        exercises=tuple(replace(e, solution_commands=()) for e in lesson.exercises),
    )
    try:
        for exercise in lesson.exercises:
            for line in exercise.solution_commands:
                decision = decide(line, rules, workspace, owners, lesson=lesson.id)
                assert isinstance(decision, Allowed), (line, decision)
                events = list(DockerCommand(decision.argv, env=command_env(environ, engine.url), cwd=workspace, timeout=300).events())
                ended = events[-1]
                assert isinstance(ended, CommandEnded) and ended.exit_code == 0, (line, events[-5:])
            (done,) = drive_lesson(prompt_lesson, workspace, engine.url, environ, only=[replace(exercise, solution_commands=())])
            assert all(r.passed for r in done.after), (exercise.id, [r.describe() for r in done.after])
    finally:
        remove_exercise_objects(private_api, exercise_names(lesson.exercises))


def test_lessons_check_run_types_the_solution_commands(engine: SecondEngine, private_api: docker.APIClient, course: tuple[Path, int]) -> None:
    root, _port = course
    before = {i["Id"] for i in private_api.images(all=True)}
    out = io.StringIO()
    code = lessons_command.check(root, run_exercises=True, engine=engine.url, out=out)
    text = out.getvalue()
    assert code == 0, text
    lines = [line for line in text.splitlines() if line.startswith(("ok", "FAIL"))]
    assert len(lines) == 8 and all(line.startswith("ok") for line in lines), text
    assert re.search(r"docker-commands/remove-containers: after `docker rm hello quiet` passes 2/2 .*; before them fails", text), text
    assert "8/8 exercises behave" in text
    # what the check made is gone: its tags, its containers, and the untagged image of `docker build .`
    assert {i["Id"] for i in private_api.images(all=True)} <= before
    assert not private_api.containers(all=True)


def test_a_starter_that_already_passes_is_reported(engine: SecondEngine, private_api: docker.APIClient, course: tuple[Path, int]) -> None:
    """An exercise whose commands do nothing new (its checks hold before them) is a broken exercise."""
    root, _port = course
    path = root / "06-docker-commands" / "lesson.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("      - docker rmi myapp\n", "      - docker images\n"), encoding="utf-8")
    out = io.StringIO()
    code = lessons_command.check(root, run_exercises=True, engine=engine.url, out=out)
    text = out.getvalue()
    assert code == 1, text
    assert "FAIL  docker-commands/remove-image: after `docker images` FAILS 1/2: fails [image_gone myapp]" in text, text
    assert not private_api.images(name="myapp") and not private_api.containers(all=True)


def test_tutor_watch_prints_the_ticks_of_an_exercise_done_with_the_cli(engine: SecondEngine, private_api: docker.APIClient, course: tuple[Path, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """`tutor watch` on such an exercise builds nothing: it prints what the checks find as the engine changes."""
    import argparse

    from tutor.commands.watch import watch_command
    from tutor.course.workspace import prepare_workspace

    root, _port = course
    lesson = lesson_of(root)
    exercise = lesson.exercise("build-tagged")
    assert exercise is not None
    monkeypatch.setenv("DOCKER_HOST", engine.url)
    args = argparse.Namespace(lessons=str(root), lesson="docker-commands", exercise="build-tagged", engine=engine.url, wait=False, builder=None)
    out = io.StringIO()
    stop = threading.Event()
    codes: list[int] = []
    watcher = threading.Thread(target=lambda: codes.append(watch_command(args, stop, out)), daemon=True)
    watcher.start()
    try:
        deadline = threading.Event()
        while "engine: start" not in out.getvalue() and not deadline.wait(0.1):
            assert watcher.is_alive(), out.getvalue()
        workspace = prepare_workspace(lesson, exercise)
        assert run_command("docker build -t myapp .", workspace, engine.url, dict(os.environ)).exit_code == 0
        for _ in range(300):
            if "every check passes" in out.getvalue():
                break
            deadline.wait(0.1)
        text = out.getvalue()
        assert "FAIL an image tagged myapp exists" in text and "engine: image tag myapp" in text, text  # StringIO: ascii marks
        assert "ok an image tagged myapp exists, built from this exercise's Dockerfile: An image tagged myapp exists" in text, text
    finally:
        stop.set()
        watcher.join(30)
        remove_exercise_objects(private_api, exercise_names(lesson.exercises))
    assert codes == [0]


def test_another_seats_objects_are_neither_judged_nor_removed(engine: SecondEngine, private_api: docker.APIClient, course: tuple[Path, int]) -> None:
    """At a workshop the prompt labels what a seat makes: one seat's `hello` is not another's."""
    from tutor.engine import labels as tl
    from tutor.engine.engine_state import EngineAsks, read_snapshot

    root, _port = course
    lesson = lesson_of(root)
    names = exercise_names(lesson.exercises)
    theirs = private_api.create_container("alpine:latest", command=["true"], name="hello", labels=tl.managed_labels("other", kind="container"))
    try:
        asks = EngineAsks(tags=frozenset(names.tags), names=frozenset(names.names))
        assert read_snapshot(private_api, asks, seat="other").container("hello") is not None
        assert read_snapshot(private_api, asks, seat="mine").container("hello") is None
        done = remove_exercise_objects(private_api, names, seat="mine")
        assert done.removed == () and private_api.inspect_container(theirs["Id"])["Name"] == "/hello"
    finally:
        private_api.remove_container(theirs["Id"], force=True)
