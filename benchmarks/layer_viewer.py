"""The layer viewer and the size race on go_app, against the engine's own export.

go_app is built (single-stage, about 330 MB, and multi-stage) under a benchmark seat. Then,
alternating, in this process with a warm client:

- ``docker save IMAGE > /dev/null``: the engine's export, the floor for a first reading;
- first open: ``image_contents`` (what the layer viewer shows) with nothing cached, in memory
  or on disk (a fresh TUTOR_HOME);
- second open: the same image again in the same process (memory), and as a new process would
  (memory dropped, the disk cache under TUTOR_HOME kept), start-up not counted;
- the size race (``seat_race``: the seat's images, their sizes, the binary's size as the
  floor): first with nothing cached, then as a new session would (memory dropped, disk kept).

Medians.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.scratch import build, remove_seat, scratch_go_app, seat
from tutor.engine import labels, layer_contents, seat_race
from tutor.engine.build import BuildRequest
from tutor.engine.client import thread_client


def _timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _forget_memory() -> None:
    """What a new process would not have: the in-memory caches."""
    layer_contents._cache.clear()
    seat_race._floor_cache.clear()


def _ms(values: list[float]) -> list[float]:
    return [round(v * 1000, 1) for v in values]


def measure(rounds: int = 3) -> dict:
    seat_name = seat("viewer")
    api = thread_client()
    saved_home = os.environ.get("TUTOR_HOME")
    save_s, first_s, memory_s, disk_s, race_first_s, race_again_s = [], [], [], [], [], []
    try:
        with scratch_go_app() as context, tempfile.TemporaryDirectory(prefix="tutor-bench-viewer-") as tmp:
            requests = [
                BuildRequest(
                    context,
                    dockerfile=name,
                    tag=labels.seat_tag(seat_name, context.name, name),
                    labels=labels.managed_labels(seat_name, kind="build"),
                )
                for name in ("Dockerfile", "Dockerfile.multistage")
            ]
            for req in requests:
                build(req)
            image = str(requests[0].tag)
            layers = files = 0
            for n in range(rounds):
                os.environ["TUTOR_HOME"] = str(Path(tmp) / f"home-{n}")  # nothing on disk yet
                _forget_memory()
                with open(os.devnull, "wb") as sink:
                    save_s.append(_timed(lambda: subprocess.run(["docker", "save", image], stdout=sink, check=True)))
                started = time.perf_counter()
                contents = layer_contents.image_contents(api, image)
                first_s.append(time.perf_counter() - started)
                layers, files = len(contents.layers), sum(len(layer.added) for layer in contents.layers)
                memory_s.append(_timed(lambda: layer_contents.image_contents(api, image)))
                _forget_memory()
                disk_s.append(_timed(lambda: layer_contents.image_contents(api, image)))

                os.environ["TUTOR_HOME"] = str(Path(tmp) / f"race-home-{n}")
                _forget_memory()
                started = time.perf_counter()
                race = seat_race.seat_race(api, seat_name)  # the floor measured in a container
                race_first_s.append(time.perf_counter() - started)
                if race.floor is None:
                    raise RuntimeError(f"the size race found no floor: {race.problem}")
                _forget_memory()
                race_again_s.append(_timed(lambda: seat_race.seat_race(api, seat_name)))
    finally:
        if saved_home is None:
            os.environ.pop("TUTOR_HOME", None)
        else:
            os.environ["TUTOR_HOME"] = saved_home
        remove_seat(seat_name)
    save, first = statistics.median(save_s), statistics.median(first_s)
    return {
        "image": "go_app (single-stage)",
        "layers": layers,
        "files": files,
        "rounds": rounds,
        "docker_save_ms": round(save * 1000, 1),
        "first_open_ms": round(first * 1000, 1),
        "first_open_ratio": round(first / save, 3),
        "second_open_memory_ms": round(statistics.median(memory_s) * 1000, 2),
        "second_open_disk_ms": round(statistics.median(disk_s) * 1000, 1),
        "race_first_ms": round(statistics.median(race_first_s) * 1000, 1),
        "race_new_session_ms": round(statistics.median(race_again_s) * 1000, 1),
        "docker_save_runs_ms": _ms(save_s),
        "first_open_runs_ms": _ms(first_s),
        "second_open_memory_runs_ms": _ms(memory_s),
        "second_open_disk_runs_ms": _ms(disk_s),
        "race_first_runs_ms": _ms(race_first_s),
        "race_new_session_runs_ms": _ms(race_again_s),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(measure(2), indent=2))
