"""The machine the benchmarks ran on: numbers mean little without it."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    usable_cores: int
    ram_gb: float
    load_at_start: tuple[float, float, float]
    kernel: str
    python: str
    textual: str
    docker_sdk: str
    engine: str
    docker_cli: str

    def rows(self, load_at_end: tuple[float, float, float] | None = None) -> list[tuple[str, str]]:
        load = lambda values: " / ".join(f"{v:.2f}" for v in values)  # noqa: E731
        rows = [
            ("CPU", self.cpu),
            ("cores", f"{self.cores} ({self.usable_cores} usable by this process)"),
            ("RAM", f"{self.ram_gb:.1f} GB"),
            ("load average at start (1 / 5 / 15 min)", load(self.load_at_start)),
        ]
        if load_at_end is not None:
            rows.append(("load average at end (1 / 5 / 15 min)", load(load_at_end)))
        rows += [
            ("kernel", self.kernel),
            ("Docker engine", self.engine),
            ("docker CLI", self.docker_cli),
            ("Python", self.python),
            ("textual", self.textual),
            ("docker SDK", self.docker_sdk),
        ]
        return rows


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gb() -> float:
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def _engine() -> str:
    from tutor.engine.client import connect

    api = connect()
    try:
        version, info = api.version(), api.info()
    finally:
        api.close()
    builder = "BuildKit" if os.environ.get("DOCKER_BUILDKIT") == "1" else "classic builder"
    where = ", a private engine started for the run" if os.environ.get("DOCKER_HOST") else ""
    return f"dockerd {version.get('Version')} (API {version.get('ApiVersion')}, {info.get('Driver')}, {builder}{where})"


def _cli() -> str:
    try:
        out = subprocess.run(
            ["docker", "version", "--format", "{{.Client.Version}}"], capture_output=True, text=True, timeout=20
        )
        buildx = subprocess.run(["docker", "buildx", "version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    builder = "with buildx" if buildx.returncode == 0 else "no buildx: `docker build` uses the classic builder"
    return f"{out.stdout.strip() or 'unknown'} ({builder})"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe() -> Machine:
    return Machine(
        cpu=_cpu_model(),
        cores=os.cpu_count() or 0,
        usable_cores=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0,
        ram_gb=_ram_gb(),
        load_at_start=os.getloadavg(),
        kernel=platform.release(),
        python=sys.version.split()[0],
        textual=_version("textual"),
        docker_sdk=_version("docker"),
        engine=_engine(),
        docker_cli=_cli(),
    )
