"""`tutor lessons list | check`: what a course folder holds, and whether it is right.

``check`` prints every problem as ``FILE:LINE: message`` (exit 1 on any).  With
``--run`` it also builds every exercise on the real engine: the starter must
fail at least one check and the solution must pass them all.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tutor import fmt
from tutor.commands.engine_access import connect_or_explain
from tutor.commands.exit_codes import EXIT_FAILED, EXIT_NO_ENGINE, EXIT_OK
from tutor.engine.build import BUILDERS
from tutor.seat import Seat

if TYPE_CHECKING:
    from tutor.course.workspace import Variant



def add_parser(sub) -> None:
    p = sub.add_parser("lessons", help="list a course's lessons, or check a course (and run its exercises)")
    lsub = p.add_subparsers(dest="lessons_command", metavar="ACTION", required=True)
    q = lsub.add_parser("list", help="the lessons of a course, in order")
    q.add_argument("dir", nargs="?", metavar="DIR", help="course folder (default: --lessons, else the shipped course)")
    q = lsub.add_parser("check", help="report every problem of a course as FILE:LINE: message")
    q.add_argument("dir", nargs="?", metavar="DIR", help="course folder (default: --lessons, else the shipped course)")
    q.add_argument("--run", action="store_true", help="also build each exercise: starters must fail, solutions pass")
    q.add_argument("--lesson", metavar="ID", action="append", help="with --run, only this lesson (repeatable)")
    q.add_argument("--keep-images", action="store_true", help="with --run, keep the images built (faster re-runs)")
    q.add_argument("-v", "--verbose", action="store_true", help="with --run, print every check's result")
    q.add_argument(
        "--builder",
        choices=BUILDERS,
        default=None,
        help="with --run, the builder of every exercise (default: the app's, or TUTOR_BUILDER)",
    )


def _course_dir(args) -> Path:
    from tutor import paths

    chosen = getattr(args, "dir", None) or getattr(args, "lessons", None)
    return Path(chosen).expanduser() if chosen else paths.shipped_lessons()


def run(args, out: TextIO | None = None) -> int:
    out = out or sys.stdout  # looked up per call: tests and pagers swap sys.stdout
    root = _course_dir(args)
    if args.lessons_command == "list":
        return list_lessons(root, out)
    return check(
        root,
        run_exercises=args.run,
        only=args.lesson,
        keep_images=args.keep_images,
        verbose=args.verbose,
        engine=getattr(args, "engine", None),
        builder=getattr(args, "builder", None),
        out=out,
    )


# -- list --------------------------------------------------------------------------------------


def list_lessons(root: Path, out: TextIO | None = None) -> int:
    from tutor.course.loader import load_course

    out = out or sys.stdout
    course = load_course(root)
    for lesson in course.lessons:
        count = len(lesson.exercises)
        exercises = f"{count} exercise{'s' if count != 1 else ''}" if count else "reading only"
        print(f"{lesson.order:>3}  {lesson.id:<28} {fmt.ellipsize(lesson.title, 40):<40}  {exercises}", file=out)
    if course.problems:
        files = len({p.file for p in course.problems})
        print(
            f"{len(course.problems)} problem{'s' if len(course.problems) != 1 else ''} in {files} "
            f"file{'s' if files != 1 else ''} kept lessons out: run `tutor lessons check {root}`",
            file=out,
        )
        return EXIT_FAILED
    return EXIT_OK


# -- check -------------------------------------------------------------------------------------


def check(
    root: Path,
    run_exercises: bool = False,
    only: list[str] | None = None,
    keep_images: bool = False,
    verbose: bool = False,
    engine: str | None = None,
    out: TextIO | None = None,
    builder: str | None = None,
) -> int:
    from tutor.course.loader import load_course
    from tutor.course.validator import validate

    out = out or sys.stdout
    problems = validate(root)
    for problem in problems:
        print(problem, file=out, flush=True)
    course = load_course(root)
    exercises = sum(len(lesson.exercises) for lesson in course.lessons)
    if problems:
        files = len({p.file for p in problems})
        print(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {files} file{'s' if files != 1 else ''}",
            file=out,
        )
    else:
        print(
            f"{root}: {_count(len(course.lessons), 'lesson')}, {_count(exercises, 'exercise')}, no problems", file=out
        )
    if not run_exercises:
        return EXIT_FAILED if problems else EXIT_OK
    lessons = list(course.lessons)
    if only:
        unknown = [lesson_id for lesson_id in only if course.lesson(lesson_id) is None]
        if unknown:
            known = ", ".join(lesson.id for lesson in course.lessons) or "none"
            print(f"error: no lesson {', '.join(unknown)} in {root} (lessons: {known})", file=out)
            return EXIT_FAILED
        lessons = [lesson for lesson in lessons if lesson.id in only]
    seat = Seat.from_environment(engine).name  # the seat the checks build for, learnt once here
    code = run_all(lessons, seat, keep_images=keep_images, verbose=verbose, engine=engine, out=out, builder=builder)
    return code if code == EXIT_NO_ENGINE else (EXIT_FAILED if problems or code else EXIT_OK)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass
class _Cleanup:
    """What the check built, to remove afterwards: its tags, images and failed builds' leaves."""

    tags: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class VariantOutcome:
    variant: str
    passed: tuple[str, ...]
    failed: tuple[str, ...]
    seconds: float
    details: tuple[str, ...]


def run_all(
    lessons,
    seat: str,
    keep_images: bool = False,
    verbose: bool = False,
    engine: str | None = None,
    out: TextIO | None = None,
    builder: str | None = None,
) -> int:
    from tutor.engine import baseimages
    from tutor.engine.build import default_builder

    builder = builder or default_builder()  # what the app builds the exercises with

    out = out or sys.stdout
    api = connect_or_explain(engine, out)
    if api is None:
        return EXIT_NO_ENGINE
    missing = baseimages.missing(baseimages.status(api))
    if missing:
        names = ", ".join(missing)
        print(
            f"error: the base images {names} are missing\nfix: `tutor images pull`, or `tutor images stand-in` offline",
            file=out,
        )
        return EXIT_NO_ENGINE
    print(f"building each exercise with the {builder} builder", file=out, flush=True)
    cleanup = _Cleanup()
    bad = 0
    try:
        for lesson in lessons:
            for exercise in lesson.exercises:
                if exercise.watches_engine:
                    continue  # done with the docker CLI, below, in the lesson's order
                ok, line, details = check_exercise(lesson, exercise, cleanup, engine, verbose, builder, seat=seat)
                bad += 0 if ok else 1
                print(line, file=out, flush=True)
                for detail in details:
                    print(f"      {detail}", file=out, flush=True)
            if any(exercise.watches_engine for exercise in lesson.exercises):
                for ok, line, details in check_cli_exercises(lesson, api, engine, verbose, seat):
                    bad += 0 if ok else 1
                    print(line, file=out, flush=True)
                    for detail in details:
                        print(f"      {detail}", file=out, flush=True)
    finally:
        if not keep_images:
            _remove(api, cleanup)
        api.close()
    total = sum(len(lesson.exercises) for lesson in lessons)
    print(f"{total - bad}/{total} exercises behave: starters fail, solutions pass", file=out)
    return EXIT_FAILED if bad else EXIT_OK


def check_exercise(
    lesson, exercise, cleanup: _Cleanup, engine: str | None, verbose: bool, builder: str | None = None, *, seat: str
) -> tuple[bool, str, list[str]]:
    """One exercise: its solution must pass every check, its starter fail at least one."""
    solution = _run_variant(lesson, exercise, "solution", cleanup, engine, builder, seat=seat)
    starter = _run_variant(lesson, exercise, "starter", cleanup, engine, builder, seat=seat) if exercise.starter else None
    solution_ok = not solution.failed
    starter_ok = starter is None or bool(starter.failed)
    ok = solution_ok and starter_ok
    parts = [
        f"solution {'passes' if solution_ok else 'FAILS'} " + _names(solution) + f" ({fmt.seconds(solution.seconds)})"
    ]
    if starter is not None:
        verdict = "fails" if starter_ok else "PASSES every check"
        parts.append(f"starter {verdict} " + _names(starter, failing=True) + f" ({fmt.seconds(starter.seconds)})")
    else:
        parts.append("no starter")
    line = f"{'ok  ' if ok else 'FAIL'}  {lesson.id}/{exercise.id}: " + "; ".join(parts)
    details: list[str] = []
    if verbose or not solution_ok:
        details += [f"solution {d}" for d in solution.details if verbose or d.startswith("FAIL")]
    if starter is not None and (verbose or not starter_ok):
        details += [f"starter  {d}" for d in starter.details]
        if not starter_ok:
            details.append("starter  must fail at least one check: the learner would have nothing to do")
    return ok, line, details


def check_cli_exercises(lesson, api, engine: str | None, verbose: bool, seat: str | None = None):
    """A lesson's exercises done with the docker CLI, in order: each must fail before its
    solution commands (the state the exercises before it left) and pass after them. The lesson's
    named objects are removed before and after, and the untagged images its builds made."""
    import os

    from tutor.course.engine_exercise import drive_lesson, exercise_names, remove_exercise_objects
    from tutor.course.workspace import WorkspaceError, temporary_workspace

    names = exercise_names(lesson.exercises)
    first = next(e for e in lesson.exercises if e.watches_engine)
    remove_exercise_objects(api, names, seat)  # an earlier run's leftovers would make a starter pass
    made: dict[str, None] = {}
    before_any: set[str] | None = None
    try:
        with temporary_workspace(first, "solution") as workspace:
            for done in drive_lesson(lesson, workspace, engine, dict(os.environ)):
                if before_any is None and done.snapshot_before is not None:
                    before_any = {i.id for i in done.snapshot_before.images}
                if done.snapshot_after is not None:
                    made.update(dict.fromkeys(i.id for i in done.snapshot_after.images))
                yield _cli_outcome(lesson, done, verbose)
    except WorkspaceError as exc:
        yield False, f"FAIL  {lesson.id}: the exercise files could not be laid out: {exc}", []
    finally:
        remove_exercise_objects(api, names, seat)
        _remove_untagged(api, [i for i in made if i not in (before_any or set())])


def _cli_outcome(lesson, done, verbose: bool) -> tuple[bool, str, list[str]]:
    passed = [r.name for r in done.after if r.passed]
    failed = [r.name for r in done.after if not r.passed]
    starter_failed = [r.name for r in done.before if not r.passed]
    solution_ok, starter_ok = not failed, bool(starter_failed)
    shown = f"{len(passed)}/{len(done.after)} [" + ", ".join(passed) + "]" if solution_ok else (
        f"{len(passed)}/{len(done.after)}: fails [" + ", ".join(failed) + "]"
    )
    commands = "; ".join(ran.command for ran in done.commands)
    starter = "fails [" + ", ".join(starter_failed) + "]" if starter_ok else "PASSES every check"
    line = (
        f"{'ok  ' if solution_ok and starter_ok else 'FAIL'}  {lesson.id}/{done.exercise.id}: "
        f"after `{commands}` {'passes' if solution_ok else 'FAILS'} {shown}; before them {starter} ({fmt.seconds(done.seconds)})"
    )
    details: list[str] = []
    if verbose or not solution_ok:
        details += [f"solution {r.describe()}" for r in done.after if verbose or not r.passed]
        for ran in done.commands:
            if ran.exit_code != 0 or verbose:
                tail = " | ".join(ran.output[-3:])
                details.append(f"$ {ran.command} (exit {ran.exit_code})" + (f": {tail}" if tail else ""))
    if verbose or not starter_ok:
        details += [f"starter  {r.describe()}" for r in done.before]
        if not starter_ok:
            details.append("starter  must fail at least one check: the learner would have nothing to do")
    return solution_ok and starter_ok, line, details


def _remove_untagged(api, image_ids: list[str]) -> None:
    """The images a `docker build .` of the check made: only while nobody has tagged them."""
    from docker.errors import APIError, NotFound

    for image in image_ids:
        try:
            if api.inspect_image(image).get("RepoTags"):
                continue
            api.remove_image(image)
        except (APIError, NotFound):
            pass  # gone with the tag, or a container still uses it


def _names(outcome: VariantOutcome, failing: bool = False) -> str:
    if failing and outcome.failed:
        return "[" + ", ".join(outcome.failed) + "]"
    if outcome.failed:
        return (
            f"{len(outcome.passed)}/{len(outcome.passed) + len(outcome.failed)}: fails ["
            + ", ".join(outcome.failed)
            + "]"
        )
    return f"{len(outcome.passed)}/{len(outcome.passed)} [" + ", ".join(outcome.passed) + "]"


def _run_variant(
    lesson, exercise, variant: Variant, cleanup: _Cleanup, engine: str | None, builder: str | None = None, *, seat: str
) -> VariantOutcome:
    from tutor.course.checks import CheckResult, inverted_prediction, perfect_prediction
    from tutor.course.runner import BuildStarted, ExerciseFinished, ExerciseRun, exercise_tag
    from tutor.course.workspace import WorkspaceError, temporary_workspace
    from tutor.engine.events import BuildFailed, BuildSucceeded, StepFinished, StepStarted

    tag = exercise_tag(seat, lesson.id, exercise.id, f"check-{variant}")
    prediction = None
    if exercise.predict:
        prediction = perfect_prediction if variant == "solution" else inverted_prediction
    cleanup.tags.append(tag)
    finished: ExerciseFinished | None = None
    try:
        with temporary_workspace(exercise, variant) as workspace:
            run = ExerciseRun(
                exercise, workspace, lesson.id, seat=seat, engine=engine, prediction=prediction, tag=tag, builder=builder
            )
            last_step_image: str | None = None
            stage_of: dict[int, int] = {}
            stage_last: dict[int, str] = {}  # the last image of each stage
            for event in run.events():
                if isinstance(event, BuildStarted):
                    cleanup.tags.append(event.tag)  # an exercise with targets makes one image each
                    stage_of, stage_last = {}, {}
                elif isinstance(event, StepStarted):
                    stage_of[event.step] = event.stage
                elif isinstance(event, StepFinished) and event.image_id:  # BuildKit's steps make no images
                    last_step_image = event.image_id
                    stage_last[stage_of.get(event.step, 0)] = event.image_id
                elif isinstance(event, BuildSucceeded):
                    cleanup.images.append(event.image_id)
                    # Builder stages end in untagged images that are no parent of the final one.
                    final = max(stage_last, default=0)
                    cleanup.images.extend(image for stage, image in stage_last.items() if stage != final)
                elif isinstance(event, BuildFailed) and last_step_image:
                    cleanup.images.append(last_step_image)  # a failed build leaves its last layer behind
                elif isinstance(event, ExerciseFinished):
                    finished = event
    except WorkspaceError as exc:
        return VariantOutcome(variant, (), ("workspace",), 0.0, (f"FAIL workspace: {exc}",))
    if finished is None:
        return VariantOutcome(variant, (), ("run",), 0.0, ("FAIL run: the run ended without a result",))
    results: tuple[CheckResult, ...] = finished.results
    return VariantOutcome(
        variant,
        tuple(r.name for r in results if r.passed),
        tuple(r.name for r in results if not r.passed),
        finished.seconds,
        tuple(r.describe() + (f" (Dockerfile line {r.line})" if r.line else "") for r in results),
    )


def _remove(api, cleanup: _Cleanup) -> None:
    from docker.errors import APIError, NotFound

    for tag in dict.fromkeys(cleanup.tags):
        try:
            api.remove_image(tag)
        except (APIError, NotFound):
            pass  # never built (a failed build), or another name still holds it
    for image in dict.fromkeys(i for i in cleanup.images if i):
        try:
            data = api.inspect_image(image)
        except (APIError, NotFound):
            continue  # went with its child
        if data.get("RepoTags"):
            continue  # somebody else's name for it: not ours to delete
        try:
            api.remove_image(image)
        except (APIError, NotFound):
            pass  # in use as another build's cache: it stays
