"""An exercise's checks: one module per family of check kinds, gathered in ``registry``.

Pure apart from two things handed in or looked up: the ``http`` check calls a function that
runs the image and asks it for a page (the runner provides one), and the ``hadolint`` check runs
the hadolint binary. Every result says what was expected and what was found, never just
"incorrect".
"""

from tutor.course.checks.cache import CACHED_WORD, REBUILT_WORD, inverted_prediction, perfect_prediction
from tutor.course.checks.hadolint import HADOLINT_LEVELS, hadolint_binary, run_hadolint
from tutor.course.checks.kind import CheckKind, CheckResult, Evidence, HttpAnswer, HttpProbe, Verdict
from tutor.course.checks.registry import (
    KINDS,
    engine_asks,
    evaluate,
    evaluate_all,
    needs_http,
    new_check,
    watches_engine,
)

__all__ = [
    "CACHED_WORD",
    "HADOLINT_LEVELS",
    "KINDS",
    "REBUILT_WORD",
    "CheckKind",
    "CheckResult",
    "Evidence",
    "HttpAnswer",
    "HttpProbe",
    "Verdict",
    "engine_asks",
    "evaluate",
    "evaluate_all",
    "hadolint_binary",
    "inverted_prediction",
    "needs_http",
    "new_check",
    "perfect_prediction",
    "run_hadolint",
    "watches_engine",
]
