"""Which builder runs a build: ``auto`` (what the learner's own `docker build` uses), ``buildkit``, ``classic``.

BuildKit is reached through the docker CLI's buildx plugin when it is there (it also works on
the containerd image store), else through the engine's own build API (``version=2``, Docker 23
and later; it fails on 26.x with the containerd store, moby#47717).  When neither can work,
``auto`` falls back to the classic builder with a one-line note, and ``buildkit`` refuses with
the reason and the fix.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from tutor.engine.build import AUTO, BUILDERS, BUILDKIT, CLASSIC
from tutor.engine.client import EngineUnavailable, engine_url, thread_client
from tutor.engine.events import BuildFailed

MIN_BUILDX = (0, 12)  # --progress=rawjson
BUILDKIT_API_SINCE = 23  # the engine's build API builds with BuildKit without a session
STORE_FIXED_IN = 27  # moby#47717: the API path on the containerd image store


@dataclass(frozen=True)
class Choice:
    builder: str  # classic | buildkit
    via: str  # classic | buildx | api
    backend: Any = None  # the class that runs the build
    note: str | None = None  # auto fell back to the classic builder: why
    refusal: BuildFailed | None = None  # nothing can build as asked


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for word in text.split("."):
        digits = "".join(ch for ch in word if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


@functools.lru_cache(maxsize=8)
def _buildx_version(path_env: str) -> str | None:
    docker = shutil.which("docker", path=path_env)
    if docker is None:
        return None
    try:
        done = subprocess.run([docker, "buildx", "version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    words = done.stdout.split()
    if done.returncode != 0 or len(words) < 2:
        return None
    return words[1].lstrip("v").split("+", 1)[0]


def buildx_version() -> str | None:
    """The buildx plugin of the docker CLI on PATH ("0.13.1"), None without one."""
    return _buildx_version(os.environ.get("PATH", os.defpath))


def docker_cli() -> str | None:
    return shutil.which("docker")


@functools.lru_cache(maxsize=8)
def _engine_facts(url: str) -> tuple[int | None, str | None, str]:
    """(major version, image store, version text) of the engine at ``url``."""
    from tutor.engine.image_size import image_store

    api = thread_client(url)
    version = str(api.version().get("Version") or "")
    head = version.split(".", 1)[0]
    try:
        store = image_store(api)
    except Exception:  # noqa: BLE001 - unknown store: judged by the version alone
        store = None
    return (int(head) if head.isdigit() else None), store, version


def buildkit_problem(major: int | None, store: str | None, version: str, buildx: str | None) -> str | None:
    """Why BuildKit cannot build on this engine with this CLI, None when it can (through buildx or the API)."""
    if buildx is not None and _version_tuple(buildx) >= MIN_BUILDX:
        return None
    missing = (
        "the docker CLI's buildx plugin is not installed"
        if buildx is None
        else f"the docker CLI's buildx is {buildx} (0.12 or later is needed)"
    )
    if major is not None and major < BUILDKIT_API_SINCE:
        return f"Docker {version} builds with BuildKit only through buildx, and {missing}"
    if store == "containerd" and (major is None or major < STORE_FIXED_IN):
        return (
            f"the build API of Docker {version} fails with the containerd image store (moby#47717, fixed in 27), "
            f"and {missing}"
        )
    return None


BUILDKIT_FIX = (
    "Install buildx (Debian: `apt-get install docker-buildx`; it comes with Docker Desktop) or an engine of 27 "
    "or later; or build with the classic builder: --builder classic."
)


def choose(builder: str, engine: str | None = None) -> Choice:
    """The backend for ``builder`` on this engine."""
    from tutor.engine.classic import ClassicBuild

    if builder not in BUILDERS:
        return Choice(CLASSIC, CLASSIC, refusal=BuildFailed(f"Unknown builder {builder!r}: use auto, buildkit or classic."))
    if builder == CLASSIC or (builder == AUTO and os.environ.get("DOCKER_BUILDKIT") == "0"):
        return Choice(CLASSIC, CLASSIC, ClassicBuild)
    url = engine_url(engine)
    try:
        major, store, version = _engine_facts(url)
    except EngineUnavailable as exc:
        return Choice(BUILDKIT, BUILDKIT, refusal=BuildFailed(exc.problem.reason, engine_lost=True, fix=exc.problem.fix))
    except Exception:  # noqa: BLE001 - the engine answered oddly: the classic path reports it
        return Choice(CLASSIC, CLASSIC, ClassicBuild)
    buildx = buildx_version()
    problem = buildkit_problem(major, store, version, buildx)
    if problem is None:
        if buildx is not None and _version_tuple(buildx) >= MIN_BUILDX:
            from tutor.engine.buildkit.buildx import BuildxBuild

            return Choice(BUILDKIT, "buildx", BuildxBuild)
        from tutor.engine.buildkit.api import ApiBuild

        return Choice(BUILDKIT, "api", ApiBuild)
    if builder == AUTO:
        return Choice(CLASSIC, CLASSIC, ClassicBuild, note=f"BuildKit cannot build here ({problem}): built with the classic builder.")
    return Choice(
        BUILDKIT, BUILDKIT, refusal=BuildFailed(f"BuildKit cannot build here: {problem}.", fix=BUILDKIT_FIX)
    )
