"""Image sizes as lessons write them: ``20MB``, ``500kB``, ``1.5 GB``.

Decimal units, as ``docker images`` prints them (1 MB = 1,000,000 bytes); the
binary ones (``MiB``) are accepted too, for authors who think in them.
"""

from __future__ import annotations

import re

_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*$")


def parse_size(text: str | int) -> int:
    """Bytes in ``text``; ValueError with a message an author can act on."""
    if isinstance(text, bool):
        raise ValueError(f"expected a size such as 20MB, found {text!r}")
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"a size cannot be negative: {text}")
        return text
    if not isinstance(text, str):
        raise ValueError(f"expected a size such as 20MB, found {text!r}")
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a size: write a number and a unit, e.g. 20MB or 500kB")
    number, unit = match.groups()
    factor = _UNITS.get(unit.lower())
    if factor is None:
        raise ValueError(f"unknown unit '{unit}' in '{text}': use B, kB, MB, GB or TB")
    return int(float(number) * factor)
