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
MAX_SIZE = 1000**4  # 1 TB: beyond any image a lesson builds
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*$")


def parse_size(text: object) -> int:
    """Bytes in ``text``; ValueError with a message an author can act on."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        # A bare number: bytes? megabytes? The docs ask for a unit, so the author says which.
        raise ValueError(f"a size needs a unit: write {text}MB, {text}kB or {text}B, not {text}")
    if not isinstance(text, str):
        shown = "a list" if isinstance(text, list) else "a mapping" if isinstance(text, dict) else repr(text)
        raise ValueError(f"expected a size such as 20MB, found {shown}")
    match = _SIZE_RE.match(text) if len(text) <= 40 else None
    if not match:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise ValueError(f"'{shown}' is not a size: write a number and a unit, e.g. 20MB or 500kB")
    number, unit = match.groups()
    factor = _UNITS.get(unit.lower())
    if factor is None:
        raise ValueError(f"unknown unit '{unit}' in '{text}': use B, kB, MB, GB or TB")
    size = int(float(number) * factor)
    if size > MAX_SIZE:
        raise ValueError(f"'{text}' is more than any image can be: at most 1TB")
    return size
