"""Is this machine ready for the course?  Engine, base images, disk: each problem with its fix."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tutor.engine import baseimages
from tutor.engine.client import EngineUnavailable, connect, engine_url

MIN_FREE_DISK = 2_000_000_000  # a cold build of the course needs about 1 GB of layers


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


def _disk(root_dir: str | None) -> tuple[str, int | None]:
    for candidate in (root_dir, "/var/lib/docker", str(Path.home())):
        if candidate and Path(candidate).exists():
            try:
                return candidate, shutil.disk_usage(candidate).free
            except OSError:
                continue
    return "", None


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
    remote = not url.startswith("unix://")
    root = None if remote else info.get("DockerRootDir")
    engine_info = EngineInfo(
        url,
        True,
        version.get("Version"),
        version.get("ApiVersion"),
        info.get("Driver"),
        info.get("DockerRootDir"),
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
    path, free = (None, None) if remote else _disk(root)
    if free is not None and free < MIN_FREE_DISK:
        problems.append(
            Problem(
                f"Only {free // 1_000_000} MB free on {path}; the course's builds need about 2 GB.",
                "Free some space: `tutor clean` removes what the tutor built; `docker system prune` frees more.",
            )
        )
    return DoctorReport(engine_info, images, free, path, tuple(problems))


def report_from_dict(data: dict) -> DoctorReport:
    """The inverse of ``dataclasses.asdict`` (``tutor doctor --json``), e.g. for recorded reports."""
    return DoctorReport(
        engine=EngineInfo(**data["engine"]),
        images=tuple(baseimages.BaseImageStatus(**i) for i in data.get("images", ())),
        disk_free=data.get("disk_free"),
        disk_path=data.get("disk_path"),
        problems=tuple(Problem(**p) for p in data.get("problems", ())),
    )
