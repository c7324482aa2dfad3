"""Everything wrong with a course folder, each problem at a file and line.

The front matter rules live in ``schema`` (the loader applies them); this adds
the course-wide rules of docs/authoring.md that concern the exercise files: the
classic builder's syntax only, base images the course can provide offline, no
network access at build time.
"""

from __future__ import annotations

import re
from pathlib import Path

from tutor.course import dockerfile as df
from tutor.course.checks.arguments import did_you_mean
from tutor.course.loader import LESSON_FILE, load_course
from tutor.course.model import Course, Exercise, Lesson, LessonProblem
from tutor.course.workspace import unusual_entries
from tutor.engine.course_images import COURSE_BASE_IMAGES, EMPTY_IMAGE

# The course's base images and the empty one: what a workshop without a registry can build FROM.
OFFLINE_IMAGES = (*COURSE_BASE_IMAGES, EMPTY_IMAGE)
_HEREDOC_RE = re.compile(r"<<-?\s*[\"']?[A-Za-z_][A-Za-z0-9_]*[\"']?(?:\s|$)")
_NETWORK_RE = re.compile(
    r"\b(apk\s+(?:add|update)|apt-get\s+(?:install|update)|apt\s+install|pip\s+install|curl\s|wget\s)"
)


def validate(root: Path | str) -> list[LessonProblem]:
    """The course's problems, by file and line (empty: the course is fine)."""
    course = load_course(root)
    problems = list(course.problems)
    problems.extend(_misnamed_lesson_files(course))
    for lesson in course.lessons:
        problems.extend(_links_in_exercise_folders(lesson))
        for exercise in lesson.exercises:
            problems.extend(exercise_dockerfile_problems(exercise))
        problems.extend(_unused_exercise_folders(lesson))
    return sorted(set(problems), key=lambda p: (str(p.file), p.line, p.message))


def _misnamed_lesson_files(course: Course) -> list[LessonProblem]:
    """`Lesson.md` instead of `lesson.md`; or both, where the file system tells them apart."""
    problems: list[LessonProblem] = []
    if not course.root.is_dir():
        return problems
    for folder in sorted(p for p in course.root.iterdir() if p.is_dir() and not p.is_symlink()):
        has_lesson = (folder / LESSON_FILE).is_file()
        for candidate in sorted(folder.iterdir()):
            if candidate.name.lower() == LESSON_FILE and candidate.name != LESSON_FILE:
                fix = "remove it: the folder already has" if has_lesson else "rename it to"
                problems.append(LessonProblem(candidate, 0, f"{fix} {LESSON_FILE} (the name is case-sensitive)"))
    return problems


def exercise_folders(lesson: Lesson) -> list[Path]:
    """The lesson's own folders its exercises lay out (the shipped go_app is not the author's)."""
    folders: list[Path] = []
    for exercise in lesson.exercises:
        for folder in (exercise.base_dir if exercise.base != "go_app" else None, exercise.starter_dir, exercise.solution_dir):
            if folder is not None and folder not in folders:
                folders.append(folder)
    return folders


def _links_in_exercise_folders(lesson: Lesson) -> list[LessonProblem]:
    """Symbolic links and special files: a workspace never follows nor copies them (see workspace.py)."""
    problems: list[LessonProblem] = []
    for folder in exercise_folders(lesson):
        for path, why in unusual_entries(folder):
            problems.append(
                LessonProblem(path, 0, f"{why}: not allowed in exercise folders (a workspace takes plain files and folders only)")
            )
    return problems


def _unused_exercise_folders(lesson: Lesson) -> list[LessonProblem]:
    """A `starter*` or `solution*` folder no exercise names: almost always a forgotten field
    (without `solution:`, the reference solution is the base alone, and `--run` fails it)."""
    used: set[Path] = set()
    for exercise in lesson.exercises:
        for folder in (exercise.starter_dir, exercise.solution_dir, exercise.base_dir):
            if folder is not None:
                used.add(folder.resolve())
    problems: list[LessonProblem] = []
    for folder in sorted(p for p in lesson.dir.iterdir() if p.is_dir()):
        kind = next((k for k in ("starter", "solution") if folder.name.startswith(k)), None)
        if kind is None or not lesson.exercises:
            continue
        resolved = folder.resolve()
        if any(resolved == u or resolved in u.parents for u in used):
            continue
        only = lesson.exercises[0] if len(lesson.exercises) == 1 else None
        where = f"exercise `{only.id}`" if only else "an exercise"
        problems.append(
            LessonProblem(
                lesson.path,
                exercise.line if exercise else 0,
                f"the folder {folder.name}/ is not used by any exercise: add `{kind}: {folder.name}` to {where}",
            )
        )
    return problems


def exercise_dockerfile_problems(exercise: Exercise) -> list[LessonProblem]:
    """Rules for the Dockerfiles an exercise builds: starter, solution, and a lesson's own base."""
    files: list[Path] = []
    folders = [exercise.starter_dir, exercise.solution_dir, exercise.base_dir if exercise.base != "go_app" else None]
    for folder in folders:
        path = folder / exercise.dockerfile if folder is not None else None
        if path is not None and path.is_file() and not path.is_symlink():
            files.append(path)
    problems: list[LessonProblem] = []
    for path in files:
        problems.extend(dockerfile_problems(path, buildkit=exercise.builder == "buildkit"))
    problems.extend(_target_problems(exercise))
    return problems


def _target_problems(exercise: Exercise) -> list[LessonProblem]:
    """Every stage `targets` names is a stage of the solution's Dockerfile (the starter may lack
    them: building a missing target is one way for it to fail)."""
    if not exercise.targets:
        return []
    folder = exercise.solution_dir or exercise.base_dir
    path = folder / exercise.dockerfile
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []  # reported where the Dockerfile is looked for
    names = [stage.name.lower() for stage in df.stages(text) if stage.name]
    problems = []
    for target in exercise.targets:
        if target not in names:
            known = ", ".join(names) or "none: name a stage with `FROM image AS name`"
            problems.append(
                LessonProblem(
                    exercise.lesson_dir / LESSON_FILE,
                    exercise.targets_line or exercise.line,
                    f"target `{target}` is no stage of {folder.name}/{exercise.dockerfile}"
                    f"{did_you_mean(target, names)} (its stages: {known})",
                )
            )
    return problems


def dockerfile_problems(path: Path, buildkit: bool = False) -> list[LessonProblem]:
    """What keeps the Dockerfile at ``path`` from building in the course; ``buildkit``: its
    exercise always builds with BuildKit, so BuildKit's own syntax is welcome."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [LessonProblem(path, 0, f"cannot read it: {exc}")]
    problems: list[LessonProblem] = []
    stage_names: set[str] = set()
    for stage in df.stages(text):
        image = stage.image
        known = df.normalise_image(image) in OFFLINE_IMAGES or image.lower() in stage_names or "$" in image
        if not known:
            problems.append(
                LessonProblem(
                    path,
                    stage.line,
                    f"FROM {image}: the course can only provide {', '.join(OFFLINE_IMAGES)} offline",
                )
            )
        if stage.name:
            stage_names.add(stage.name.lower())
    for ins in df.steps(text):
        value = ins.instruction[len(ins.keyword) :].strip()
        if not buildkit and ins.keyword == "RUN" and re.match(r"^--mount\b", value):
            problems.append(
                LessonProblem(
                    path, ins.line, "RUN --mount needs BuildKit; the classic builder cannot build it (or give the exercise `builder: buildkit`)"
                )
            )
        if not buildkit and ins.keyword in ("RUN", "COPY") and _HEREDOC_RE.search(value):
            problems.append(
                LessonProblem(
                    path,
                    ins.line,
                    "heredocs (<<EOF) need BuildKit; the classic builder cannot build them (or give the exercise `builder: buildkit`)",
                )
            )
        if ins.keyword == "RUN" and (match := _NETWORK_RE.search(value)):
            problems.append(
                LessonProblem(
                    path,
                    ins.line,
                    f"`{match.group(1).strip()}` needs the network at build time; the course builds offline",
                )
            )
        if ins.keyword == "ADD" and re.search(r"\bhttps?://", value):
            problems.append(
                LessonProblem(path, ins.line, "ADD of a URL needs the network at build time; the course builds offline")
            )
    return problems
