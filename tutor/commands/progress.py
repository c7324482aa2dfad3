"""`tutor progress [--json]` and `tutor progress reset`: the learner's progress through the course."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from tutor import fmt
from tutor.commands.exit_codes import EXIT_FAILED, EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser("progress", help="show your progress through the course, or reset it")
    p.add_argument("--json", action="store_true", help="print it as one JSON object")
    psub = p.add_subparsers(dest="progress_command", metavar="ACTION")
    r = psub.add_parser("reset", help="forget the progress of one exercise, one lesson, or all of it")
    r.add_argument("--lesson", metavar="ID", help="the lesson to reset (all its exercises unless --exercise)")
    r.add_argument("--exercise", metavar="ID", help="only this exercise")
    r.add_argument("--all", action="store_true", help="forget everything")
    r.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")


def _course(args):
    from tutor import paths
    from tutor.course.loader import load_course

    chosen = getattr(args, "lessons", None)
    return load_course(Path(chosen).expanduser() if chosen else paths.shipped_lessons())


def run(args, out: TextIO | None = None, stdin: TextIO | None = None) -> int:
    from tutor.course.progress import ProgressError, ProgressStore
    from tutor.seat import Seat

    out = out or sys.stdout
    stdin = stdin or sys.stdin

    course = _course(args)
    # A reset that cannot be saved is an error, not something kept until the command ends.
    seat = Seat.from_environment()
    store = ProgressStore(seat.progress_file, strict=True)
    try:
        if getattr(args, "progress_command", None) == "reset":
            return reset(course, store, args.lesson, args.exercise, args.all, args.yes, out, stdin)
        return show(course, store, as_json=args.json, out=out, seat=seat.name)
    except ProgressError as exc:
        print(f"error: {exc}", file=out)
        return EXIT_FAILED


# -- show ------------------------------------------------------------------------------------------


def _marks(out: TextIO) -> dict[str, str]:
    fancy = {"passed": "✓", "attempted": "~", "new": "·"}
    try:
        "".join(fancy.values()).encode(getattr(out, "encoding", None) or "ascii")
        return fancy
    except (UnicodeEncodeError, LookupError):
        return {"passed": "+", "attempted": "~", "new": "."}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def report(course, progress) -> dict:
    """Progress laid over the course, in course order: what ``--json`` prints."""
    from tutor.course.progress import lesson_state, resume_point

    lessons = []
    known: set[tuple[str, str]] = set()
    for lesson in course.lessons:
        exercises = []
        for exercise in lesson.exercises:
            known.add((lesson.id, exercise.id))
            state = progress.exercise(lesson.id, exercise.id)
            exercises.append({"id": exercise.id, "title": exercise.title, **state.to_dict()})
        lessons.append(
            {
                "id": lesson.id,
                "title": lesson.title,
                "order": lesson.order,
                "state": lesson_state(lesson, progress),
                "exercises": exercises,
            }
        )
    lesson_id, exercise_id = resume_point(course, progress)
    passed = sum(1 for lesson in lessons for e in lesson["exercises"] if e["state"] == "passed")
    total = sum(len(lesson["exercises"]) for lesson in lessons)
    elsewhere = sorted(f"{lid}/{eid}" for lid, eid in progress.exercises if (lid, eid) not in known)
    return {
        "course": str(course.root),
        "lessons": lessons,
        "resume": None if lesson_id is None else {"lesson": lesson_id, "exercise": exercise_id},
        "not_in_course": elsewhere,
        "passed": passed,
        "exercises": total,
        "done": total > 0 and passed == total,  # every exercise passed: nothing is "next"
    }


def show(course, store, as_json: bool = False, out: TextIO = sys.stdout, *, seat: str) -> int:
    progress, notice = store.load()
    data = report(course, progress)
    if as_json:
        data.update({"seat": seat, "file": str(store.path), "notice": notice})
        data["problems"] = [str(p) for p in course.problems]
        print(json.dumps(data, indent=1), file=out)
        return EXIT_OK if course.lessons else EXIT_FAILED
    if notice:
        print(f"note: {notice}", file=out)
    if not course.lessons:
        why = "; ".join(str(p) for p in course.problems[:3]) or "it has no lessons"
        print(f"error: no course to show progress in: {why}", file=out)
        return EXIT_FAILED
    marks = _marks(out)
    print(f"progress of seat {seat}: {data['passed']}/{data['exercises']} exercises passed", file=out)
    for lesson in data["lessons"]:
        count = len(lesson["exercises"])
        done = sum(1 for e in lesson["exercises"] if e["state"] == "passed")
        tally = f"{done}/{count} passed" if count else "reading only"
        print(f"{marks[lesson['state']]} {lesson['order']:>2}  {lesson['id']:<28} {lesson['state']:<9}  {tally}", file=out)
        for e in lesson["exercises"]:
            print("      " + _exercise_line(e, marks), file=out)
    if data["not_in_course"]:
        print(f"also recorded, not in this course: {', '.join(data['not_in_course'])}", file=out)
    if course.problems:
        print(f"({_plural(len(course.problems), 'problem')} kept lessons out: `tutor lessons check`)", file=out)
    resume = data["resume"]
    if data["done"]:
        unread = [lesson["id"] for lesson in data["lessons"] if not lesson["exercises"] and lesson["state"] != "passed"]
        print(f"the course is done: all {_plural(data['exercises'], 'exercise')} passed", file=out)
        if unread:
            print(f"not read yet: {', '.join(unread)}", file=out)
    elif resume is not None and resume["exercise"] is not None:
        print(f"next: {resume['lesson']} / {resume['exercise']}  (tutor watch {resume['lesson']} --exercise {resume['exercise']})", file=out)
    elif resume is not None:
        print(f"next: read {resume['lesson']}", file=out)
    return EXIT_OK


def _exercise_line(e: dict, marks: dict[str, str]) -> str:
    parts = [f"{marks[e['state']]} {e['id']:<30} {e['state']:<9}"]
    if e["attempts"]:
        parts.append(f"{_plural(e['attempts'], 'attempt'):<11}")
    if e["seconds"]:
        parts.append(f"{fmt.seconds(e['seconds']):>7}")
    if e["hints_revealed"]:
        parts.append(_plural(e["hints_revealed"], "hint"))
    if e["solution_revealed"]:
        parts.append("solution seen")
    return "  ".join(parts).rstrip()


# -- reset -----------------------------------------------------------------------------------------


def _target(course, progress, lesson_id: str | None, exercise_id: str | None, everything: bool) -> tuple[tuple[str | None, str | None] | None, str]:
    """(lesson, exercise) to reset and how to name it, or None and what is wrong."""
    if everything:
        if lesson_id or exercise_id:
            return None, "--all resets everything: leave out --lesson and --exercise"
        return (None, None), "all your progress"
    recorded = set(progress.exercises)
    if exercise_id and not lesson_id:
        holders = [lesson.id for lesson in course.lessons if lesson.exercise(exercise_id) is not None]
        holders += sorted({lid for lid, eid in recorded if eid == exercise_id and lid not in holders})
        if not holders:
            return None, f"no exercise {exercise_id!r} in the course or in your progress"
        if len(holders) > 1:
            return None, f"exercise {exercise_id!r} is in lessons {', '.join(holders)}: say which with --lesson"
        lesson_id = holders[0]
    if not lesson_id:
        return None, "say what to reset: --lesson ID (and --exercise ID), or --all"
    lesson = course.lesson(lesson_id)
    if lesson is None and not any(lid == lesson_id for lid, _ in recorded) and lesson_id not in progress.visited:
        known = ", ".join(lesson.id for lesson in course.lessons) or "none"
        return None, f"no lesson {lesson_id!r} in the course or in your progress (lessons: {known})"
    if exercise_id is None:
        return (lesson_id, None), f"the progress of lesson {lesson_id}"
    if (lesson is None or lesson.exercise(exercise_id) is None) and (lesson_id, exercise_id) not in recorded:
        known = ", ".join(e.id for e in lesson.exercises) if lesson is not None else "none"
        return None, f"no exercise {exercise_id!r} in lesson {lesson_id} (exercises: {known or 'none'})"
    return (lesson_id, exercise_id), f"the progress of exercise {lesson_id}/{exercise_id}"


def _confirm(question: str, out: TextIO, stdin: TextIO) -> bool:
    print(f"{question} [y/N] ", end="", file=out, flush=True)
    try:
        answer = stdin.readline()
    except (OSError, KeyboardInterrupt):
        answer = ""
    if not answer:
        print(file=out)
    return answer.strip().lower() in ("y", "yes")


def reset(
    course,
    store,
    lesson_id: str | None,
    exercise_id: str | None,
    everything: bool,
    yes: bool,
    out: TextIO = sys.stdout,
    stdin: TextIO = sys.stdin,
) -> int:
    progress, notice = store.load()
    if notice:
        print(f"note: {notice}", file=out)
    target, what = _target(course, progress, lesson_id, exercise_id, everything)
    if target is None:
        print(f"error: {what}", file=out)
        return EXIT_FAILED
    if not yes:
        interactive = hasattr(stdin, "isatty") and stdin.isatty()
        if not interactive:
            print(f"error: not resetting {what} without confirmation: run it again with --yes", file=out)
            return EXIT_FAILED
        if not _confirm(f"Forget {what}?", out, stdin):
            print("nothing was reset", file=out)
            return EXIT_OK
    count = store.reset(*target)
    print(f"reset {what}: {_plural(count, 'exercise record')} forgotten (your workspace files are kept)", file=out)
    return EXIT_OK
