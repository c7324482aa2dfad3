"""The build checks: did the (last) build succeed, or fail as the exercise wants; which stages it built."""

from __future__ import annotations

from tutor import fmt
from tutor.course import dockerfile as df
from tutor.course.checks import arguments
from tutor.course.checks.kind import CheckKind, Evidence, Verdict
from tutor.course.checks.steps import label, line_of


def _build(argument: str, ev: Evidence) -> Verdict:
    record = ev.record
    want_success = argument == "succeeds"
    expected = "the build succeeds" if want_success else "the build fails"
    if record.result is not None:
        found = f"it succeeded in {fmt.seconds(record.result.seconds)}"
        said = f"The build succeeded in {fmt.seconds(record.result.seconds)}"
        return want_success, expected, found, None, said if want_success else f"{said}; this exercise wants it to fail"
    failure = record.failure
    if failure is None:
        return False, expected, "the build did not finish", None, "The build did not finish"
    state = record.steps.get(failure.step) if failure.step is not None else None
    where = f" at {label(state.step, state.instruction, state)}" if state else ""
    found = f"it failed{where}: {fmt.ellipsize(failure.message, 160)}"
    line = line_of(ev, failure.step) or failure.line
    said = f"The build failed{where}: {fmt.ellipsize(failure.message, 160)}"
    return not want_success, expected, found, line, said if want_success else f"{said}, as this exercise wants"



def _stage_names(value: object) -> tuple[str, ...]:
    names = arguments.texts(value)
    for name in names:
        if not name[:1].isalpha() or any(not (c.isalnum() or c in "_.-") for c in name):
            raise ValueError(f"{name!r} is not a stage name (`FROM image AS name`)")
    return tuple(name.lower() for name in names)


def _skips_stages(names: tuple[str, ...], ev: Evidence) -> Verdict:
    """BuildKit builds only the stages the target needs; the classic builder every stage up to it."""
    known = {stage.name.lower(): stage for stage in df.stages(ev.dockerfile) if stage.name}
    expected = f"the build skips stage{'s' if len(names) > 1 else ''} {', '.join(names)}"
    missing = [n for n in names if n not in known]
    if missing:
        said = f"The Dockerfile has no stage named {', '.join(missing)}{arguments.did_you_mean(missing[0], list(known))}"
        return False, expected, said[0].lower() + said[1:], None, said
    if ev.record.result is None:
        return False, expected, "the build did not finish", None, "The build did not finish, so no stage can be said to be skipped"
    ran: dict[str, int] = {}
    for state in ev.record.ordered:
        name = (state.stage_name or "").lower()
        if name in names:
            ran[name] = ran.get(name, 0) + 1
    if not ran:
        said = f"The build skipped stage{'s' if len(names) > 1 else ''} {', '.join(names)}: the image does not need {'it' if len(names) == 1 else 'them'}"
        return True, expected, f"no step of {', '.join(names)} ran", None, said
    first = next(iter(ran))
    stage = known[first]
    ran_words = ", ".join(f"stage {n} ({count} step{'s' if count != 1 else ''})" for n, count in ran.items())
    builder = ev.record.builder
    why = (
        "; the classic builder builds every stage up to the target, BuildKit only those the target needs"
        if builder == "classic"
        else f"; does the target need it (FROM {first}, COPY --from={first})?"
    )
    return False, expected, f"it built {ran_words}", stage.line, f"The build ran {ran_words}{why}"


KINDS = (
    CheckKind("build", arguments.one_of("succeeds", "fails"), _build, "the build {}"),
    CheckKind(
        "skips_stages",
        _stage_names,
        _skips_stages,
        lambda names: f"the build skips stage{'s' if len(names) > 1 else ''} {', '.join(names)}",
    ),
)
