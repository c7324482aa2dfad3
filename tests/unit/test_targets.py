"""One Dockerfile, several images: `--target`, the stages a target needs, and the exercise that
builds each target in turn. Replays of real builds of the course's own solution
(tests/fixtures/record_buildkit_streams.py targets, tests/fixtures/record_streams.py targets)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from tutor.course.checks import Evidence, evaluate, new_check
from tutor.course.loader import load_course
from tutor.course.model import Exercise
from tutor.course.runner import BuildStarted, ExerciseFinished, ExerciseRun, target_tag
from tutor.engine import buildlog
from tutor.engine.build import BuildRequest
from tutor.engine.buildkit.buildx import command
from tutor.engine.explain import explain
from tutor.engine.failures import advise
from tutor.engine.record import METADATA, BuildRecord
from tutor.engine.replay import Recording, ReplayBuild

ROOT = Path(__file__).resolve().parents[2]
STREAMS = ROOT / "tests" / "fixtures" / "streams"
THREE_IMAGES = ROOT / "lessons" / "07-buildkit" / "solution-one-file-three-images" / "Dockerfile"
VIAS = ["buildx", "api"]


def replayed(path: Path) -> BuildRecord:
    record = BuildRecord()
    for event in ReplayBuild(path).events():
        record.apply(event)
    return record


def buildkit(via: str, target: str) -> BuildRecord:
    return replayed(STREAMS / "buildkit" / via / f"target_{target}.jsonl")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ctx = tmp_path / "three-images"
    shutil.copytree(ROOT / "go_app", ctx)
    shutil.copy(THREE_IMAGES, ctx / "Dockerfile")
    return ctx


def steps() -> list[buildlog.StepInput]:
    return buildlog.parse_steps(THREE_IMAGES.read_text())


def names(stages: set[int]) -> set[str]:
    by_index = {s.stage: s.stage_name for s in steps() if s.keyword == "FROM"}
    return {by_index[i] or str(i) for i in stages}


# -- which stages a target needs (pure) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "needed"),
    [
        ("local", {"builder", "local"}),  # FROM builder
        ("production", {"builder", "production"}),  # COPY --from=builder
        ("staging", {"builder", "production", "staging"}),  # FROM production, which copies from builder
        (None, {"builder", "production", "staging"}),  # no target: the last stage
        ("PRODUCTION", {"builder", "production"}),  # Docker matches stage names in any case
    ],
)
def test_a_target_needs_the_stages_it_starts_from_and_copies_from(target, needed) -> None:
    assert names(buildlog.needed_stages(steps(), target)) == needed


def test_a_from_names_only_an_earlier_stage_and_a_number_names_a_stage() -> None:
    text = "FROM alpine:latest AS base\nRUN true\nFROM base AS two\nCOPY --from=0 /etc/hostname /x\nFROM alpine:latest\n"
    parsed = buildlog.parse_steps(text)
    assert buildlog.from_stage(parsed, next(s for s in parsed if s.text == "FROM base AS two")) == 0
    assert buildlog.from_stage(parsed, parsed[0]) is None  # an image
    assert buildlog.needed_stages(parsed, "two") == {0, 1}
    assert buildlog.needed_stages(parsed, None) == {2}
    assert buildlog.target_stage(parsed, "nothere") is None


def test_every_way_to_build_passes_the_target_on(tmp_path: Path) -> None:
    request = BuildRequest(tmp_path, tag="t:1", target="production", builder="buildkit")
    argv = command(request, tmp_path, tmp_path / "Dockerfile", "meta.json")
    assert argv[argv.index("--target") + 1] == "production" and argv[-1] == str(tmp_path)
    assert "--target" not in command(BuildRequest(tmp_path), tmp_path, tmp_path / "Dockerfile", "m.json")


def test_a_missing_target_stage_is_explained_on_both_builders() -> None:
    for message in ('target stage "local" could not be found', "failed to reach build target local in Dockerfile"):
        advice = advise(message, None)
        assert advice is not None and "FROM <image or stage> AS local" in advice


# -- BuildKit builds of each target, replayed ----------------------------------------------------


@pytest.mark.parametrize("via", VIAS)
def test_a_stage_that_starts_from_another_shows_its_from_and_config(via: str) -> None:
    local = buildkit(via, "local")
    assert local.result is not None
    by_text = {s.instruction: s for s in local.ordered}
    start = by_text["FROM builder AS local"]
    assert start.status == METADATA and start.stage_name == "local"
    assert by_text["EXPOSE 8080"].stage_name == "local" and by_text['CMD ["./main"]'].status == METADATA
    assert {s.stage_name for s in local.ordered} == {"builder", "local"}  # production, staging: skipped
    assert by_text["RUN go build -o main"].label == "[builder 6/6]"

    staging = buildkit(via, "staging")
    assert {s.stage_name for s in staging.ordered} == {"builder", "production", "staging"}
    assert any(s.instruction == "ENV APP_ENV=staging" and s.status == METADATA for s in staging.ordered)


@pytest.mark.parametrize("via", VIAS)
def test_the_why_line_names_the_stages_a_target_skipped(via: str, workspace: Path) -> None:
    for target, said in (
        ("local", "Stage production and stage staging were skipped: the target local does not need them."),
        ("production", "Stage local and stage staging were skipped: the target production does not need them."),
        ("staging", "Stage local was skipped: the target staging does not need it."),
    ):
        record = buildkit(via, target)
        snapshot = buildlog.take_snapshot(workspace, target=target).completed(record)
        assert explain(None, snapshot, record).summary.endswith(said), target


@pytest.mark.parametrize("via", VIAS)
def test_skips_stages_passes_on_buildkit_and_names_the_cached_shared_stage(via: str, workspace: Path) -> None:
    record = buildkit(via, "production")
    evidence = Evidence(record=record, dockerfile=THREE_IMAGES.read_text(), context=workspace)
    skips = evaluate(new_check("skips_stages", ["local", "staging"]), evidence)
    assert skips.passed and skips.sentence == "The build skipped stages local, staging: the image does not need them"
    assert skips.title == "the build skips stages local, staging"
    cached = evaluate(new_check("cached", ["RUN go build"]), evidence)
    assert cached.passed and cached.sentence == "[builder 6/6] RUN go build -o main came from the cache"
    typo = evaluate(new_check("skips_stages", "locl"), evidence)
    assert not typo.passed and typo.sentence == "The Dockerfile has no stage named locl (did you mean `local`?)"


def test_the_classic_builder_builds_every_stage_up_to_the_target(workspace: Path) -> None:
    record = replayed(STREAMS / "target_production.jsonl")
    assert record.result is not None and record.builder == "classic"
    assert {s.stage_name for s in record.ordered} == {"builder", "local", "production"}
    evidence = Evidence(record=record, dockerfile=THREE_IMAGES.read_text(), context=workspace)
    skips = evaluate(new_check("skips_stages", ["local", "staging"]), evidence)
    assert not skips.passed
    assert skips.sentence.startswith("The build ran stage local (3 steps); the classic builder builds every stage up to the target")
    assert skips.line == THREE_IMAGES.read_text().splitlines().index("FROM builder AS local") + 1
    snapshot = buildlog.take_snapshot(workspace, target="production").completed(record)
    assert explain(None, snapshot, record).summary.endswith(
        "Stage staging was not built: the classic builder stops at the target production."
    )


def test_each_target_is_remembered_apart(workspace: Path) -> None:
    local = buildlog.take_snapshot(workspace, target="local")
    production = buildlog.take_snapshot(workspace, target="production")
    plain = buildlog.take_snapshot(workspace)
    assert len({local.key, production.key, plain.key}) == 3
    again = buildlog.BuildSnapshot.from_json(local.to_json())
    assert again.target == "local" and again.key == local.key


# -- the exercise: one build per target, the checks on the last --------------------------------


def three_images() -> Exercise:
    course = load_course(ROOT / "lessons")
    lesson = course.lesson("buildkit")
    assert lesson is not None
    exercise = lesson.exercise("one-file-three-images")
    assert exercise is not None
    return exercise


@pytest.mark.parametrize("via", VIAS)
def test_the_exercise_builds_each_target_in_turn_and_checks_the_last(via: str, workspace: Path) -> None:
    exercise = three_images()
    assert exercise.targets == ("local", "staging", "production") and exercise.builder == "buildkit"
    requests: list[BuildRequest] = []

    def replay(request: BuildRequest) -> ReplayBuild:
        requests.append(request)
        return ReplayBuild(Recording.load(STREAMS / "buildkit" / via / f"target_{request.target}.jsonl"))

    # No container from a replay: the http check is left to the real-engine tests.
    exercise = dataclasses.replace(exercise, checks=tuple(c for c in exercise.checks if c.kind != "http"))
    run = ExerciseRun(exercise, workspace, "buildkit", seat="s1", build_factory=replay)
    events = list(run.events())
    started = [e for e in events if isinstance(e, BuildStarted)]
    assert [(e.index, e.total, e.label) for e in started] == [
        (1, 3, "build --target local"),
        (2, 3, "build --target staging"),
        (3, 3, "build --target production"),
    ]
    assert [e.tag for e in started] == [f"tutor/s1/buildkit-one-file-three-images:{t}" for t in exercise.targets]
    assert [r.target for r in requests] == ["local", "staging", "production"]
    assert all(r.builder == "buildkit" for r in requests)
    finished = events[-1]
    assert isinstance(finished, ExerciseFinished) and finished.tag == started[-1].tag
    assert {r.name: r.passed for r in finished.results} == {
        "build succeeds": True,
        "cached RUN go build": True,
        "skips_stages local, staging": True,
        "image_smaller_than 20.0 MB": True,
    }


def test_target_tag_keeps_the_repository_and_names_the_target() -> None:
    assert target_tag("tutor/s1/lesson-ex:latest", "production") == "tutor/s1/lesson-ex:production"
    assert target_tag("localhost:5000/x", "local") == "localhost:5000/x:local"


# -- stages built at the same time -------------------------------------------------------------


@pytest.mark.parametrize("via", VIAS)
def test_parallel_stages_reads_when_each_stage_ran_by_the_engines_clock(via: str, tmp_path: Path) -> None:
    path = STREAMS / "buildkit" / via / "multistage_parallel.jsonl"
    record = replayed(path)
    evidence = Evidence(record=record, dockerfile=Recording.load(path).meta["dockerfile"], context=tmp_path)
    both = evaluate(new_check("parallel_stages", ["builder", "assets"]), evidence)
    assert both.passed and both.title == "stages builder and assets build at the same time"
    assert both.sentence.startswith("They ran at the same time for 2.")  # assets' RUN sleeps 2 s while go build runs
    assert "stage builder from 0." in both.sentence and "stage assets from 0.0s to 2." in both.sentence
    skipped = evaluate(new_check("parallel_stages", ["builder", "debug"]), evidence)
    assert not skipped.passed and skipped.sentence == "Stage debug was not built: the image does not need it (COPY --from=debug)"
    typo = evaluate(new_check("parallel_stages", ["buildr", "assets"]), evidence)
    assert typo.sentence == "The Dockerfile has no stage named buildr (did you mean `builder`?)"
    # cached steps did not run: nothing ran beside them
    cached = buildkit(via, "production")
    again = evaluate(new_check("parallel_stages", ["builder", "production"]), Evidence(record=cached, dockerfile=THREE_IMAGES.read_text(), context=tmp_path))
    assert not again.passed and "came from the cache" in again.sentence


def test_parallel_stages_says_the_classic_builder_builds_one_stage_after_another(tmp_path: Path) -> None:
    record = replayed(STREAMS / "target_production.jsonl")
    evidence = Evidence(record=record, dockerfile=THREE_IMAGES.read_text(), context=tmp_path)
    result = evaluate(new_check("parallel_stages", ["builder", "local"]), evidence)
    assert not result.passed and result.sentence.startswith("The classic builder builds one stage after another")


def test_parallel_stages_wants_two_stages() -> None:
    with pytest.raises(ValueError, match="two stage names or more"):
        new_check("parallel_stages", ["builder"])
    with pytest.raises(ValueError, match="not a stage name"):
        new_check("parallel_stages", ["builder", "two words"])

