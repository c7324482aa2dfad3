"""The image-size race: how far each image is from the smallest it could be.

The floor is the static Go binary itself: an image cannot be smaller than what
it runs.  Each image is shown as bytes, MB and a multiple of that floor, and
:func:`render_bars` draws the race as text for any width (the TUI and the CLI
both use it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from docker.errors import DockerException

from tutor import fmt
from tutor.engine import labels
from tutor.engine.image_size import image_size

if TYPE_CHECKING:
    import docker

    from tutor.engine.layer_contents import ImageContents

DEFAULT_BINARY = "/app/main"
_EIGHTHS = " ▏▎▍▌▋▊▉"


class MeasureError(Exception):
    """A size could not be measured; the message says which and why."""


@dataclass(frozen=True)
class RaceRow:
    label: str
    bytes: int
    mb: float  # decimal megabytes, as `docker images` prints them
    multiple: float  # bytes / floor bytes
    is_floor: bool = False
    ref: str | None = None  # the image (or where the floor was measured)


def image_bytes(api: docker.APIClient, ref: str) -> int:
    try:
        return image_size(api, ref)
    except Exception as exc:
        raise MeasureError(f"No image {ref} on the engine: {exc}") from exc


def binary_size(api: docker.APIClient, image: str, path: str = DEFAULT_BINARY, *, seat: str) -> int:
    """Bytes of ``path`` inside ``image``, read from a created (never started) container."""
    try:
        created = api.create_container(
            image, command=["true"], labels=labels.managed_labels(seat, kind="measure")
        )
    except Exception as exc:
        raise MeasureError(f"Cannot open the image {image} to measure {path}: {exc}") from exc
    container = created["Id"]
    try:
        stream, info = api.get_archive(container, path)
        for _ in stream:  # drain: the connection is then reusable
            pass
        if not info or "size" not in info:
            raise MeasureError(f"The engine did not say how big {path} is in {image}.")
        return int(info["size"])
    except MeasureError:
        raise
    except Exception as exc:
        raise MeasureError(f"No {path} in the image {image}: {exc}") from exc
    finally:
        with contextlib.suppress(DockerException, OSError):  # already gone
            api.remove_container(container, force=True)


def binary_size_from_layers(contents: ImageContents, path: str = DEFAULT_BINARY) -> int:
    """Bytes of ``path`` as the image's layers store it (no container needed)."""
    found = contents.find(path)
    if found is None:
        raise MeasureError(f"No {path} in the layers of {contents.image}.")
    return found.size


def race_rows(sizes: Sequence[tuple[str, int]], floor: tuple[str, int], refs: Sequence[str | None] = ()) -> list[RaceRow]:
    """Rows biggest first, the floor last.  Pure: sizes are (label, bytes)."""
    floor_label, floor_bytes = floor
    if floor_bytes <= 0:
        raise MeasureError("The floor (the binary's size) must be more than 0 bytes.")
    rows = [
        RaceRow(label, n, n / 1e6, n / floor_bytes, False, refs[i] if i < len(refs) else None)
        for i, (label, n) in enumerate(sizes)
    ]
    rows.sort(key=lambda r: -r.bytes)
    rows.append(RaceRow(floor_label, floor_bytes, floor_bytes / 1e6, 1.0, True))
    return rows


def race(
    api: docker.APIClient,
    images: Sequence[tuple[str, str]],
    floor_image: str,
    binary: str = DEFAULT_BINARY,
    *,
    seat: str,
) -> list[RaceRow]:
    """Measure ``images`` ((label, ref) pairs) against the binary found in ``floor_image``."""
    floor = binary_size(api, floor_image, binary, seat=seat)
    sizes = [(label, image_bytes(api, ref)) for label, ref in images]
    return race_rows(sizes, (f"the binary alone ({binary})", floor), [ref for _l, ref in images])


def _multiple(m: float) -> str:
    return f"{m:.0f}×" if m >= 10 else f"{m:.1f}×"


def render_bars(rows: Sequence[RaceRow], width: int) -> list[str]:
    """One line per row, at most ``width`` characters: label, bar (to scale), size, multiple."""
    if not rows:
        return []
    width = max(width, 24)
    numbers = [f"{fmt.size(r.bytes):>8} {_multiple(r.multiple):>5}" for r in rows]
    num_w = max(len(n) for n in numbers)
    label_w = min(max(len(r.label) for r in rows), max(6, width // 3))
    bar_w = max(1, width - label_w - num_w - 3)
    biggest = max(r.bytes for r in rows) or 1
    lines = []
    for row, nums in zip(rows, numbers):
        eighths = round(row.bytes / biggest * bar_w * 8)
        if row.bytes and not eighths:
            eighths = 1  # a real size never vanishes from the race
        bar = "█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")
        label = fmt.ellipsize(row.label, label_w)
        lines.append(f"{label:<{label_w}} {bar:<{bar_w}} {nums:>{num_w}}"[:width])
    return lines
