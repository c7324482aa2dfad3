"""The build check: did the (last) build succeed, or fail as the exercise wants."""

from __future__ import annotations

from tutor import fmt
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
    where = f" at {label(state.step, state.instruction)}" if state else ""
    found = f"it failed{where}: {fmt.ellipsize(failure.message, 160)}"
    line = line_of(ev, failure.step) or failure.line
    said = f"The build failed{where}: {fmt.ellipsize(failure.message, 160)}"
    return not want_success, expected, found, line, said if want_success else f"{said}, as this exercise wants"



KINDS = (CheckKind("build", arguments.one_of("succeeds", "fails"), _build, "the build {}"),)
