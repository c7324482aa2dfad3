"""What every builder checks before it builds, in one place so that the builders cannot drift.

The context and the Dockerfile must exist, the seat may build what the Dockerfile names
(engine/seat_rules.py), and the engine must answer. A builder may add refusals of its own (the
classic builder cannot build a heredoc).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker

from tutor.engine import labels as tl
from tutor.engine import seat_rules
from tutor.engine.build import BuildRequest
from tutor.engine.client import EngineUnavailable, thread_client
from tutor.engine.context import ContextError, resolve
from tutor.engine.events import BuildFailed


@dataclass(frozen=True)
class Admitted:
    context: Path
    dockerfile: Path
    api: docker.APIClient  # this thread's client of the request's engine


def admit(
    request: BuildRequest, refuse: Callable[[Path], BuildFailed | None] | None = None
) -> Admitted | BuildFailed:
    """The build's context, Dockerfile and engine client, or the failure to report instead."""
    try:
        context, dockerfile = resolve(request.context, request.dockerfile)
    except ContextError as exc:
        return BuildFailed(str(exc))
    refused = (refuse(dockerfile) if refuse is not None else None) or seat_rules.refused_build(
        dockerfile, request.labels.get(tl.SEAT), request.engine
    )
    if refused is not None:
        return refused
    try:
        api = thread_client(request.engine)
    except EngineUnavailable as exc:
        return BuildFailed(exc.problem.reason, engine_lost=True, fix=exc.problem.fix)
    return Admitted(context, dockerfile, api)
