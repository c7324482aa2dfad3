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


def _stage_list(value: object) -> tuple[str, ...]:
    names = _stage_names(value)
    if len(set(names)) < 2:
        raise ValueError("expected two stage names or more, e.g. [builder, assets]")
    return names


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


def _parallel_stages(names: tuple[str, ...], ev: Evidence) -> Verdict:
    """The named stages were running at one moment: BuildKit builds independent stages at the same
    time (by the engine's clock); the classic builder builds one stage after another."""
    known = {stage.name.lower(): stage for stage in df.stages(ev.dockerfile) if stage.name}
    expected = f"stages {' and '.join(names)} build at the same time"
    missing = [n for n in names if n not in known]
    if missing:
        said = f"The Dockerfile has no stage named {', '.join(missing)}{arguments.did_you_mean(missing[0], list(known))}"
        return False, expected, said[0].lower() + said[1:], None, said
    record = ev.record
    if record.result is None:
        return False, expected, "the build did not finish", None, "The build did not finish"
    if record.builder == "classic":
        found = "the classic builder built them one after the other"
        return False, expected, found, None, "The classic builder builds one stage after another: BuildKit builds independent stages at the same time"
    spans: dict[str, tuple[float, float]] = {}
    for name in names:
        steps = [s for s in record.ordered if (s.stage_name or "").lower() == name]
        ran = [s.ran for s in steps if s.ran is not None]
        if not steps:
            found = f"stage {name} was not built: the image does not need it"
            return False, expected, found, known[name].line, f"Stage {name} was not built: the image does not need it (COPY --from={name})"
        if not ran:
            found = f"nothing of stage {name} ran: it came from the cache"
            return False, expected, found, known[name].line, f"Nothing of stage {name} ran (it came from the cache), so nothing ran beside it"
        spans[name] = (min(r[0] for r in ran), max(r[1] for r in ran))
    start = min(span[0] for span in spans.values())
    words = ", ".join(f"stage {n} from {fmt.seconds(a - start)} to {fmt.seconds(b - start)}" for n, (a, b) in spans.items())
    overlap = min(span[1] for span in spans.values()) - max(span[0] for span in spans.values())
    if overlap > 0:
        said = f"They ran at the same time for {fmt.seconds(overlap)}: {words}"
        return True, expected, f"they ran at the same time for {fmt.seconds(overlap)} ({words})", None, said
    said = f"They ran one after the other ({words}): does one need the other (COPY --from, FROM)?"
    return False, expected, f"they ran one after the other ({words})", None, said


KINDS = (
    CheckKind("build", arguments.one_of("succeeds", "fails"), _build, "the build {}"),
    CheckKind(
        "skips_stages",
        _stage_names,
        _skips_stages,
        lambda names: f"the build skips stage{'s' if len(names) > 1 else ''} {', '.join(names)}",
    ),
    CheckKind("parallel_stages", _stage_list, _parallel_stages, lambda names: f"stages {' and '.join(names)} build at the same time"),
)
