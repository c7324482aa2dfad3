"""Reaching the engine from a headless command: the client, or the reason and the fix on screen."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import docker



def connect_or_explain(engine: str | None, out: TextIO) -> docker.APIClient | None:
    """A pinged client, or None after printing why no engine answers and how to fix it."""
    from tutor.engine.client import EngineUnavailable, connect

    try:
        return connect(engine)
    except EngineUnavailable as exc:
        print(f"error: {exc.problem.reason}\nfix: {exc.problem.fix}", file=out)
        return None
