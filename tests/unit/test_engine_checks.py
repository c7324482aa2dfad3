"""Exercises done with the docker CLI, judged on snapshots recorded from a real engine.

tests/fixtures/engine_states/docker-commands/ holds what the engine held before the lesson and
after each of its exercises (tests/fixtures/record_engine_states.py typed the solution commands).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tutor.course.checks import new_check, watches_engine
from tutor.course.engine_exercise import exercise_names, exercise_objects, judge
from tutor.course.loader import load_course
from tutor.course.model import Lesson
from tutor.course.validator import validate
from tutor.engine.engine_state import EngineSnapshot

STATES = ROOT / "tests" / "fixtures" / "engine_states" / "docker-commands"
DOCKERFILE = (ROOT / "go_app" / "Dockerfile").read_text(encoding="utf-8")


def state(name: str) -> EngineSnapshot:
    path = next(STATES.glob(f"{name}*.json"))
    return EngineSnapshot.from_dict(json.loads(path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def lesson() -> Lesson:
    found = load_course(ROOT / "lessons").lesson("docker-commands")
    assert found is not None
    return found


def sentences(lesson: Lesson, exercise_id: str, snapshot: str, dockerfile: str = DOCKERFILE) -> dict[str, tuple[bool, str]]:
    exercise = lesson.exercise(exercise_id)
    assert exercise is not None
    return {r.name: (r.passed, r.sentence) for r in judge(exercise, state(snapshot), dockerfile)}


def test_each_exercise_fails_before_its_commands_and_passes_after(lesson: Lesson) -> None:
    files = sorted(STATES.glob("*.json"))
    assert [f.stem[3:] for f in files[1:]] == [e.id for e in lesson.exercises]
    for before, after, exercise in zip(files, files[1:], lesson.exercises):
        assert exercise.watches_engine and exercise.solution_commands
        passed_before = [r.passed for r in judge(exercise, state(before.stem), DOCKERFILE)]
        passed_after = [r for r in judge(exercise, state(after.stem), DOCKERFILE)]
        assert not all(passed_before), f"{exercise.id} passes before its commands"
        assert all(r.passed for r in passed_after), [r.describe() for r in passed_after]


def test_what_each_check_says_it_found(lesson: Lesson) -> None:
    assert sentences(lesson, "build-untagged", "01")["image_built"] == (
        True, "Image d482ac96d760 was built from this Dockerfile (no tag: docker images lists it as <none>)"
    )
    assert sentences(lesson, "build-tagged", "01")["image_exists myapp"] == (
        False, "No image is tagged myapp: `docker build -t myapp .` names one"
    )
    assert sentences(lesson, "build-tagged", "02")["image_exists myapp"][1] == (
        "An image tagged myapp exists (d482ac96d760), built from this Dockerfile"
    )
    # quiet runs without -p: asked for the published port, it says why nothing answers
    quiet = new_check("container_running", {"name": "quiet", "port": 8080})
    published = sentences(lesson, "run-published", "03")
    assert published["container_running hello myapp :8080"][0] is False
    from tutor.course.checks import Evidence, evaluate
    from tutor.engine.record import BuildRecord

    result = evaluate(quiet, Evidence(BuildRecord(), DOCKERFILE, ROOT, engine=state("03")))
    assert result.sentence == (
        "quiet is running, but port 8080 is not published: nothing answers on the host (`-p 8080:8080`)"
    )
    assert sentences(lesson, "run-published", "04")["container_running hello myapp :8080"] == (
        True, 'hello is running, port 8080 published on 8080, and it answered 200 "Hello, Docker with Go!"'
    )
    assert sentences(lesson, "exec-change", "04")["file_in_container hello /tmp/hello"] == (
        False, "hello has no /tmp/hello yet: `docker exec hello touch /tmp/hello` makes it"
    )
    stopped = sentences(lesson, "stop-containers", "06")["container_exited hello"]
    assert stopped == (True, "hello is stopped (exited, exit code 2): only `docker ps -a` lists it now")
    assert sentences(lesson, "remove-containers", "06")["container_gone hello"] == (
        False, "The container hello still exists (exited): `docker rm hello` removes it"
    )
    assert sentences(lesson, "remove-image", "06")["image_gone myapp"] == (
        False, "The image myapp is still there, and 2 containers use it: `docker rm` them, then `docker rmi myapp`"
    )


def test_an_image_from_another_dockerfile_is_not_the_exercises(lesson: Lesson) -> None:
    other = DOCKERFILE.replace('CMD ["./main"]', 'CMD ["./server"]').replace("WORKDIR /app", "WORKDIR /srv")
    passed, said = sentences(lesson, "build-tagged", "02", dockerfile=other)["image_exists myapp"]
    assert not passed
    assert said == (
        'The image myapp (d482ac96d760) is not from this Dockerfile: its command is ["./main"]; the Dockerfile\'s CMD is ["./server"]'
    )
    rebuilt = DOCKERFILE.replace("RUN go build -o main", "RUN go build -o server")
    assert "its history has no step `RUN go build -o server`" in sentences(lesson, "build-untagged", "01", rebuilt)["image_built"][1]


def test_the_exercise_objects_are_listed_by_the_names_the_lesson_gives_them(lesson: Lesson) -> None:
    names = exercise_names(lesson.exercises)
    assert names.tags == ("myapp:latest",) and set(names.names) == {"quiet", "hello"}
    assert exercise_objects(state("04"), names) == (
        "image myapp:latest (d482ac96d760)",
        "container hello of myapp: running, 8080->8080",
        "container quiet of myapp: running",
    )
    assert exercise_objects(state("06"), names)[1] == "container hello of myapp: exited (2)"
    assert exercise_objects(state("08"), names) == ()
    assert exercise_objects(state("01"), names) == ()  # an untagged image is nobody's by name


def test_a_snapshot_reads_back_as_it_was_written() -> None:
    snap = state("05")
    assert EngineSnapshot.from_dict(json.loads(json.dumps(snap.to_dict()))) == snap
    hello = snap.container("hello")
    assert hello is not None and hello.has_file("/tmp/hello") and hello.host_port(8080) == 8080


def test_without_a_snapshot_a_check_fails_with_the_reason(lesson: Lesson) -> None:
    exercise = lesson.exercise("build-tagged")
    assert exercise is not None
    (result,) = judge(exercise, None, DOCKERFILE)
    assert not result.passed and "the engine could not be read" in result.sentence


def test_engine_checks_are_told_apart_from_build_checks() -> None:
    assert watches_engine([new_check("image_exists", "myapp"), new_check("image_gone", "other")])
    assert not watches_engine([new_check("image_exists", "myapp"), new_check("build", "succeeds")])
    assert not watches_engine([])


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("image_exists", "My App", "is not an image tag"),
        ("image_exists", {"tags": "myapp"}, "unknown key `tags`"),
        ("container_running", {"port": 8080}, "name the container"),
        ("container_running", {"name": "a b"}, "is not a container name"),
        ("container_running", {"name": "hello", "port": 0}, "port number"),
        ("port_unpublished", {"name": "quiet"}, "missing `port`"),
        ("file_in_container", {"name": "hello", "path": "tmp/x"}, "absolute path"),
        ("image_built", "yes", "expected true"),
    ],
)
def test_wrong_arguments_say_what_is_wrong(kind: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        new_check(kind, value)


def _course(tmp_path: Path, exercise: str) -> Path:
    folder = tmp_path / "course" / "01-cli"
    folder.mkdir(parents=True)
    (folder / "lesson.md").write_text(
        "---\nid: cli\ntitle: CLI\norder: 1\nexercises:\n  - id: one\n    title: One\n    goal: Do it.\n" + exercise + "---\n\nText.\n",
        encoding="utf-8",
    )
    return tmp_path / "course"


@pytest.mark.parametrize(
    ("exercise", "message"),
    [
        ("    checks:\n      - image_exists: myapp\n", "missing `solution_commands`"),
        (
            "    solution_commands: [docker build -t myapp .]\n    checks:\n      - image_exists: myapp\n      - build: succeeds\n",
            "an exercise's checks are all of one sort",
        ),
        ("    solution_commands: [docker build .]\n    checks:\n      - build: succeeds\n", "`solution_commands` goes with checks that look at the engine"),
        ("    solution_commands: [ls -l]\n    checks:\n      - image_built: true\n", "a solution command is a docker command"),
        ("    solution_commands: ['docker run \"x']\n    checks:\n      - image_built: true\n", "cannot be split into words"),
        (
            "    scenario: rebuild\n    solution_commands: [docker build .]\n    checks:\n      - image_built: true\n",
            "`scenario` is about the tutor's build",
        ),
    ],
)
def test_the_validator_reports_engine_exercise_mistakes_at_their_line(tmp_path: Path, exercise: str, message: str) -> None:
    problems = validate(_course(tmp_path, exercise))
    assert any(message in p.message for p in problems), [str(p) for p in problems]
    assert all(p.line > 0 for p in problems)


def test_a_well_written_engine_exercise_loads(tmp_path: Path) -> None:
    root = _course(tmp_path, "    solution_commands: [docker build -t myapp .]\n    checks:\n      - image_exists: myapp\n")
    assert validate(root) == []
    (exercise,) = load_course(root).lessons[0].exercises
    assert exercise.watches_engine and exercise.solution_commands == ("docker build -t myapp .",)


def test_only_the_engine_events_that_change_what_a_check_sees_wake_the_watch() -> None:
    """One event of each kind the engine sent while the lesson's commands ran (docker events --format json)."""
    from tutor.engine.engine_events import _said, _useful

    lines = (STATES.parent / "events.jsonl").read_text(encoding="utf-8").splitlines()
    woke = [_said(event) for event in map(json.loads, lines) if _useful(event)]
    assert woke == [
        "image load c7d71e48056f",
        "image tag myapp",
        "container create quiet",
        "container start quiet",
        "container exec_die hello",
        "container kill quiet",
        "container die quiet",
        "container stop quiet",
        "container destroy quiet",
        "image untag d482ac96d760",
        "image delete d482ac96d760",
    ]  # not: the network's connect and disconnect, exec_create and exec_start, an image's save


def test_an_exercise_build_left_untagged_is_not_a_build_by_hand(lesson: Lesson) -> None:
    """A build of the tutor's own whose tag a later build took is <none> too, but carries the
    exercise's labels: it is not the learner's `docker build .`."""
    import dataclasses

    from tutor.engine import labels

    after = state("01")
    built = next(i for i in after.images if not i.tags)
    theirs = dataclasses.replace(built, labels={**built.labels, **labels.managed_labels("local", "meet-the-app", kind="exercise")})
    snapshot = dataclasses.replace(after, images=tuple(theirs if i is built else i for i in after.images))
    exercise = lesson.exercise("build-untagged")
    assert exercise is not None
    result = next(r for r in judge(exercise, snapshot, DOCKERFILE) if r.kind == "image_built")
    assert not result.passed and "No image built by hand yet" in result.sentence


def test_a_tutor_build_left_untagged_is_not_a_build_by_hand_but_a_prompt_build_is(lesson: Lesson) -> None:
    """`tutor build` labels its images `build` with no lesson; the docker prompt labels what it
    builds `build` with the lesson it was typed in: that one is the learner's `docker build .`."""
    import dataclasses

    from tutor.engine import labels

    after = state("01")
    built = next(i for i in after.images if not i.tags)
    exercise = lesson.exercise("build-untagged")
    assert exercise is not None

    def judged(extra: dict[str, str]) -> bool:
        image = dataclasses.replace(built, labels={**built.labels, **extra})
        snapshot = dataclasses.replace(after, images=tuple(image if i is built else i for i in after.images))
        return next(r for r in judge(exercise, snapshot, DOCKERFILE) if r.kind == "image_built").passed

    assert not judged(labels.managed_labels("pytest", kind="build"))  # tutor build's, its tag since taken
    assert judged(labels.managed_labels("k1", "docker-commands", kind="build"))  # typed in the prompt
