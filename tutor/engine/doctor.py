"""Is this machine ready for the course?  Engine, base images, disk: each problem with its fix."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tutor.engine import baseimages
from tutor.engine.builders import buildx_version
from tutor.engine.client import EngineUnavailable, connect, engine_url
from tutor.engine.image_size import store_of_info

MIN_FREE_DISK = 2_000_000_000  # a cold build of the course needs about 1 GB of layers
BUILDKIT_DEFAULT_SINCE = 23  # `docker build` is BuildKit from Engine 23.0 on; older engines are out of support


@dataclass(frozen=True)
class Problem:
    what: str
    fix: str
    blocking: bool = True


@dataclass(frozen=True)
class EngineInfo:
    url: str
    reachable: bool
    version: str | None = None
    api_version: str | None = None
    storage_driver: str | None = None
    root_dir: str | None = None
    problem_kind: str | None = None
    image_store: str | None = None  # "containerd" or "graphdriver" (tutor.engine.image_size)
    buildkit: str | None = None  # how BuildKit can be reached here, None: it cannot


@dataclass(frozen=True)
class DoctorReport:
    engine: EngineInfo
    images: tuple[baseimages.BaseImageStatus, ...] = ()
    disk_free: int | None = None
    disk_path: str | None = None
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not any(p.blocking for p in self.problems)


def remote_url(url: str) -> bool:
    return not url.startswith("unix://")


def _disk(root_dir: str | None) -> tuple[str, int | None]:
    for candidate in (root_dir, "/var/lib/docker", str(Path.home())):
        if candidate and Path(candidate).exists():
            try:
                return candidate, shutil.disk_usage(candidate).free
            except OSError:
                continue
    return "", None


def _major(version: str | None) -> int | None:
    head = (version or "").split(".", 1)[0]
    return int(head) if head.isdigit() else None


def buildkit_route(engine_version: str | None, image_store: str | None, buildx: str | None) -> str | None:
    """Through what BuildKit builds on this engine, in words; None when nothing can."""
    major = _major(engine_version)
    if major is not None and major < BUILDKIT_DEFAULT_SINCE and buildx is None:
        return None
    if buildx is not None:
        return f"buildx {buildx} (docker buildx build)"
    if major is None or (image_store == "containerd" and major < 27):
        return None  # the engine's own BuildKit endpoint fails on 26.x with the containerd store
    return "the engine alone (its build API, version 2)"


def check(engine: str | None = None) -> DoctorReport:
    url = engine_url(engine)
    problems: list[Problem] = []
    try:
        api = connect(url, timeout=10)
    except EngineUnavailable as exc:
        p = exc.problem
        path, free = _disk(None)
        return DoctorReport(
            EngineInfo(url, False, problem_kind=p.kind), (), free, path, (Problem(p.reason, p.fix),)
        )
    try:
        version = api.version()
        info = api.info()
        images = tuple(baseimages.status(api))
    finally:
        api.close()
    remote = remote_url(url)
    root = None if remote else info.get("DockerRootDir")
    store = store_of_info(info)
    engine_info = EngineInfo(
        url,
        True,
        version.get("Version"),
        version.get("ApiVersion"),
        info.get("Driver"),
        info.get("DockerRootDir"),
        image_store=store,
        buildkit=buildkit_route(version.get("Version"), store, buildx_version() if not remote_url(url) else None),
    )
    major = _major(version.get("Version"))
    if major is not None and major < BUILDKIT_DEFAULT_SINCE:
        problems.append(
            Problem(
                f"Docker {version.get('Version')} is out of support, and its `docker build` is not BuildKit: "
                "what you learn here about `docker build` output follows Docker 23 and later.",
                "Upgrade the engine to Docker 26 or later (Debian 13: `apt-get install docker.io`; "
                "elsewhere Docker's own packages or Docker Desktop).",
                blocking=False,
            )
        )
    for image in images:
        if image.state == "missing":
            problems.append(
                Problem(
                    f"Base image {image.name} is missing: the course's Dockerfiles start FROM it.",
                    "Run `tutor images pull` (needs a registry), or `tutor images stand-in` (offline), "
                    "or `tutor images load FILE` from a workshop bundle.",
                )
            )
    disk_path: str | None = None
    free_bytes: int | None = None
    if not remote:  # a remote engine's disk is not this machine's
        disk_path, free_bytes = _disk(root)
    if free_bytes is not None and free_bytes < MIN_FREE_DISK:
        problems.append(
            Problem(
                f"Only {free_bytes // 1_000_000} MB free on {disk_path}; the course's builds need about 2 GB.",
                "Free some space: `tutor clean` removes what the tutor built; `docker system prune` frees more.",
            )
        )
    return DoctorReport(engine_info, images, free_bytes, disk_path, tuple(problems))


def report_from_dict(data: dict) -> DoctorReport:
    """The inverse of ``dataclasses.asdict`` (``tutor doctor --json``), e.g. for recorded reports."""
    return DoctorReport(
        engine=EngineInfo(**data["engine"]),
        images=tuple(baseimages.BaseImageStatus(**i) for i in data.get("images", ())),
        disk_free=data.get("disk_free"),
        disk_path=data.get("disk_path"),
        problems=tuple(Problem(**p) for p in data.get("problems", ())),
    )
