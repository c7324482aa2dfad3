"""Cost per step: Dockerfiles of 10, 100 and 500 steps, cached and cold, against the docker CLI.

Each Dockerfile is ``FROM alpine:latest`` and then ``ENV`` steps: the cheapest step there is for
the engine, so whatever the tutor adds per step shows most. The same image (same tag, same
labels) is built three ways, side by side and alternating, on one builder (classic, or BuildKit):

A: in this process, ``Build(request).events()`` folded into a BuildRecord, every layer size
   mapped: what the TUI does (its size book warm from the first build, as after any build).
B: ``docker build -q`` as a whole process (``DOCKER_BUILDKIT=0`` for the classic builder, ``=1``
   for BuildKit).
C: ``tutor build --builder <the same>`` as a whole process, Python's start-up included.

Cached: built once, then A B C rounds, every step from the cache. Cold: ``--no-cache`` for A
and B (every step committed again). Also a cached rebuild by C with an empty size book (a
cache another tool built). Medians; ratios against B.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.scratch import build, remove_seat, seat
from tutor.engine import labels
from tutor.engine.build import BuildRequest
from tutor.engine.client import thread_client

STEPS = (10, 100, 500)
CLASSIC, BUILDKIT = "classic", "buildkit"
BASE = "alpine:latest"


def dockerfile(steps: int) -> str:
    return "\n".join([f"FROM {BASE}", *(f"ENV STEP_{n}={n}" for n in range(1, steps))]) + "\n"


def _cli(req: BuildRequest, nocache: bool) -> list[str]:
    command = ["docker", "build", "-q", "-t", str(req.tag)]
    for key, value in req.labels.items():
        command += ["--label", f"{key}={value}"]
    return command + (["--no-cache"] if nocache else []) + [str(req.context)]


def _tutor_command(req: BuildRequest, builder: str) -> list[str]:
    command = [sys.executable, "-m", "tutor", "build", str(req.context), "-t", str(req.tag)]
    help_text = subprocess.run(command[:4] + ["--help"], capture_output=True, text=True).stdout
    return command + (["--builder", builder] if "--builder" in help_text else [])


def _request(context: Path, builder: str, **kwargs) -> BuildRequest:
    if "builder" in BuildRequest.__dataclass_fields__:  # a tutor that can build with BuildKit
        kwargs["builder"] = builder
    elif builder != CLASSIC:
        raise RuntimeError("this tutor builds with the classic builder only")
    return BuildRequest(context, **kwargs)


def _timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])}… failed: {(done.stderr or done.stdout).strip()[-500:]}")


def _ms(values: list[float]) -> list[float]:
    return [round(v * 1000, 1) for v in values]


def _point(steps: int, mode: str, tutor: list[float], cli: list[float], process: list[float] | None) -> dict:
    t, c = statistics.median(tutor), statistics.median(cli)
    point = {
        "steps": steps,
        "mode": mode,
        "tutor_ms": round(t * 1000, 1),
        "cli_ms": round(c * 1000, 1),
        "ratio": round(t / c, 3),
        "tutor_runs_ms": _ms(tutor),
        "cli_runs_ms": _ms(cli),
    }
    if process:
        p = statistics.median(process)
        point |= {"process_ms": round(p * 1000, 1), "process_ratio": round(p / c, 3), "process_runs_ms": _ms(process)}
    return point


def _sweep_one(
    count: int,
    tmp: Path,
    seat_name: str,
    env: dict[str, str],
    cached_rounds: int,
    cold_rounds: int,
    empty_book: bool,
    builder: str,
) -> tuple[list[dict], dict]:
    """The cached and the cold point of one Dockerfile length (and the empty size book's figure)."""
    context = tmp / f"steps-{count}"
    context.mkdir()
    (context / "Dockerfile").write_text(dockerfile(count))
    req = _request(
        context,
        builder,
        tag=labels.seat_tag(seat_name, context.name),
        labels=labels.managed_labels(seat_name, kind="build"),  # what `tutor build` puts on
    )
    tutor_cmd = _tutor_command(req, builder)
    first = build(req)
    assert first.total == count, (first.total, count)
    tutor, cli, process = [], [], []
    for _ in range(cached_rounds):
        tutor.append(_timed(lambda: _check_cached(build(req), count, builder)))
        cli.append(_timed(lambda: _run(_cli(req, nocache=False), env)))
        process.append(_timed(lambda: _run(tutor_cmd, env)))
    points = [_point(count, "cached", tutor, cli, process)]
    empty: dict = {}
    if empty_book:
        runs = [
            _timed(lambda: _run(tutor_cmd, {**env, "TUTOR_HOME": str(tmp / f"empty-home-{n}")}))  # noqa: B023
            for n in range(max(2, cached_rounds // 2))
        ]
        median = statistics.median(runs)
        empty = {
            "steps": count,
            "process_ms": round(median * 1000, 1),
            "runs_ms": _ms(runs),
            "process_ratio": round(median / statistics.median(cli), 3),
        }
    nocache = _request(req.context, builder, tag=req.tag, labels=req.labels, nocache=True)
    tutor, cli = [], []
    for _ in range(cold_rounds if count > 10 else cold_rounds + 1):
        tutor.append(_timed(lambda: build(nocache)))
        cli.append(_timed(lambda: _run(_cli(req, nocache=True), env)))
    points.append(_point(count, "cold", tutor, cli, None))
    return points, empty


def measure(
    cached_rounds: int = 5, cold_rounds: int = 2, steps: tuple[int, ...] = STEPS, builder: str = CLASSIC
) -> dict:
    seat_name = seat(f"steps-{builder}")
    points: list[dict] = []
    empty_book: dict = {}
    with tempfile.TemporaryDirectory(prefix="tutor-bench-steps-") as tmp:
        saved_home = os.environ.get("TUTOR_HOME")
        os.environ["TUTOR_HOME"] = str(Path(tmp) / "home")  # this process and `tutor build` share one size book
        env = {**os.environ, "TUTOR_SEAT": seat_name, "DOCKER_BUILDKIT": "0" if builder == CLASSIC else "1"}
        try:
            thread_client()
            for count in steps:
                found, empty = _sweep_one(
                    count, Path(tmp), seat_name, env, cached_rounds, cold_rounds, count == max(steps), builder
                )
                points += found
                empty_book = empty or empty_book
                print(f"  {count} steps: " + ", ".join(f"{p['mode']} x{p['ratio']:.2f}" for p in found), flush=True)
        finally:
            if saved_home is None:
                os.environ.pop("TUTOR_HOME", None)
            else:
                os.environ["TUTOR_HOME"] = saved_home
            remove_seat(seat_name)
    return {"builder": builder, "points": points, "cached_rebuild_empty_size_book": empty_book}


def _check_cached(record, count: int, builder: str) -> None:
    # BuildKit makes no step of ENV: only FROM is reported from the cache, the rest as metadata.
    if builder == CLASSIC and record.cache_hits != count:
        raise RuntimeError(f"a step was rebuilt: {record.cache_hits}/{count} from the cache")
    if any(state.size is None for state in record.steps.values()):
        raise RuntimeError("a step's size is unknown")


if __name__ == "__main__":
    import json

    print(json.dumps(measure(cached_rounds=3, cold_rounds=1, steps=(10, 100)), indent=2))
