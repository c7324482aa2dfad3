"""Parsers of the values a lesson writes after a check kind; a ValueError says what is wrong."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from tutor.course.sizes import parse_size


def shown(value: Any) -> str:
    """A written value as an author reads it in a problem message."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return repr(value)


def did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def text(value: Any, what: str = "a text") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected {what}, found {shown(value)}")
    return value


def texts(value: Any, minimum: int = 1) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if len(items) < minimum:
        raise ValueError(f"expected a list of at least {minimum} texts, found {len(items)}")
    return tuple(text(item, "a text") for item in items)


def step_ref(value: Any) -> str | int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(
            f'expected an instruction (e.g. "RUN go mod download") or a step number, found {shown(value)}'
        )
    if isinstance(value, int):
        if value < 1:
            raise ValueError(f"step numbers start at 1, found {value}")
        return value
    return text(value, "an instruction")


def step_refs(value: Any) -> tuple[str | int, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ValueError("expected at least one instruction or step number")
    return tuple(step_ref(item) for item in items)


def one_of(*words: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in words:
            raise ValueError(f"expected {' or '.join(words)}, found {shown(value)}")
        return value

    return parse


def true(value: Any) -> bool:
    if value is not True:
        raise ValueError(f"expected true, found {shown(value)}")
    return True


def size(value: Any) -> int:
    return parse_size(value)


def positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"expected a whole number of at least 1, found {shown(value)}")
    return value


def mapping(value: Any, allowed: tuple[str, ...], example: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"expected a mapping such as {example}, found {shown(value)}")
    for key in value:
        if key not in allowed:
            raise ValueError(f"unknown key `{key}`{did_you_mean(str(key), allowed)} (known: {', '.join(allowed)})")
    return value
