"""Every check kind, by name: the one list the schema, the runner, the UI and the docs agree on.

A new kind is one ``CheckKind`` in its family's module (added to that module's ``KINDS``), a row
in docs/authoring.md and a test; nothing else names it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tutor.course.checks import build, cache, context, dockerfile, engine, hadolint, run, size
from tutor.course.checks.kind import CheckKind, CheckResult, Evidence
from tutor.course.model import Check
from tutor.engine.engine_state import EngineAsks

KINDS: dict[str, CheckKind] = {
    kind.name: kind
    for family in (build, cache, size, dockerfile, run, hadolint, context, engine)
    for kind in family.KINDS
}


def new_check(kind: str, value: Any, line: int = 0) -> Check:
    """The check a lesson writes as ``- kind: value``; ValueError says what is wrong with it."""
    spec = KINDS.get(kind)
    if spec is None:
        raise ValueError(f"unknown check kind `{kind}`")
    argument = spec.parse(value)
    return Check(kind, argument, line, name=spec.label(argument), title=spec.describe(argument))


def evaluate(check: Check, evidence: Evidence) -> CheckResult:
    """The check's verdict; a kind this tutor does not know, or a judge that breaks, fails the
    check with the reason, and the other checks still run."""
    spec = KINDS.get(check.kind)
    try:
        if spec is None:
            raise LookupError(f"this tutor knows no check kind `{check.kind}`")
        passed, expected, found, line, said = spec.judge(check.argument, evidence)
    except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others' results
        passed, expected, found, line = False, check.title, f"the check could not run: {exc}", None
        said = f"This check could not run: {exc}"
    return CheckResult(check.kind, passed, expected, found, line, check.name, check.title, said)


def evaluate_all(checks: Iterable[Check], evidence: Evidence) -> list[CheckResult]:
    return [evaluate(check, evidence) for check in checks]


def watches_engine(checks: Iterable[Check]) -> bool:
    """Whether these checks judge the engine's state (the learner's docker commands), not a build."""
    kinds = [KINDS.get(c.kind) for c in checks]
    return bool(kinds) and all(spec is not None and spec.watches_engine for spec in kinds)


def engine_asks(checks: Iterable[Check]) -> EngineAsks:
    """What a snapshot of the engine must read for these checks."""
    merged = EngineAsks()
    for check in checks:
        spec = KINDS.get(check.kind)
        if spec is not None and spec.asks is not None:
            merged = merged | spec.asks(check.argument)
    return merged


def needs_http(checks: Iterable[Check]) -> bool:
    """Whether any check asks a container of the image for a page."""
    return any(spec.needs_http for spec in (KINDS.get(c.kind) for c in checks) if spec is not None)
