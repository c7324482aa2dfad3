"""Labels the tutor puts on everything it creates on an engine.

Cleanup (``tutor clean``, kiosk reset, test teardown) filters on these, so it
removes exactly what the tutor made and nothing else.
"""

from __future__ import annotations

MANAGED = "io.tutor.managed"
SEAT = "io.tutor.seat"
LESSON = "io.tutor.lesson"
KIND = "io.tutor.kind"
# On offline base images: the image they stand in for (e.g. "golang:1.24-alpine").
STANDIN = "io.tutor.standin"
STANDIN_NOTE = "io.tutor.standin.note"


def managed_labels(seat: str, lesson: str | None = None, kind: str = "build") -> dict[str, str]:
    labels = {MANAGED: "true", SEAT: seat, KIND: kind}
    if lesson:
        labels[LESSON] = lesson
    return labels


def seat_filter(seat: str | None = None) -> dict[str, list[str]]:
    """A docker API ``filters`` value selecting the tutor's objects (of one seat)."""
    wanted = [f"{MANAGED}=true"]
    if seat:
        wanted.append(f"{SEAT}={seat}")
    return {"label": wanted}


def _slug(text: str) -> str:
    import re

    slug = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")
    return slug or "image"


def seat_tag(seat: str, context_name: str, dockerfile_name: str = "Dockerfile") -> str:
    """A tag scoped to the seat, e.g. ``tutor/local/go_app-multistage:latest``.

    Seats sharing one engine never overwrite each other's images.
    """
    name = _slug(context_name)
    suffix = dockerfile_name.split(".", 1)[1] if dockerfile_name.startswith("Dockerfile.") else ""
    if suffix:
        name = f"{name}-{_slug(suffix)}"
    return f"tutor/{_slug(seat)}/{name}:latest"
