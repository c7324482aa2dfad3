"""A fully cached rebuild of go_app: the tutor's engine layer against `docker build -q`.

A: in this process, with a warm client, ``Build(request).events()`` consumed into a
   BuildRecord (every event parsed, every layer size mapped) - what the TUI does.
B: `DOCKER_BUILDKIT=0 docker build -q` as a whole process, with the same tag and labels, so both
   build the very same image with the same (classic) builder.

Both on the same scratch copy of go_app, built once beforehand so every step comes
from the cache; alternating A B A B; medians and their ratio A/B.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time

from benchmarks.scratch import build, remove_seat, request, scratch_go_app, seat
from tutor.engine.client import thread_client


def _classic() -> dict[str, str]:
    return {**os.environ, "DOCKER_BUILDKIT": "0"}  # `docker build` of a CLI with buildx would use BuildKit


def _cli(req) -> list[str]:
    command = ["docker", "build", "-q", "-t", req.tag]
    for key, value in req.labels.items():
        command += ["--label", f"{key}={value}"]
    return command + [str(req.context)]


def measure(pairs: int = 15) -> dict:
    seat_name = seat("cached")
    try:
        with scratch_go_app() as context:
            req = request(context, seat_name)
            thread_client()  # warm: the TUI's worker keeps its client
            first = build(req)  # everything cached from now on (a cold build when the engine never saw go_app)
            image_id = first.result.image_id
            tutor_s: list[float] = []
            cli_s: list[float] = []
            for _ in range(pairs):
                started = time.perf_counter()
                record = build(req)
                tutor_s.append(time.perf_counter() - started)
                assert record.cache_hits == record.total, "a step was rebuilt: not a cached rebuild"
                assert record.result.image_id == image_id

                started = time.perf_counter()
                done = subprocess.run(_cli(req), capture_output=True, text=True, env=_classic())
                cli_s.append(time.perf_counter() - started)
                if done.returncode != 0:
                    raise RuntimeError(f"docker build failed: {done.stderr.strip()}")
                assert done.stdout.strip().split(":")[-1].startswith(image_id), (done.stdout, image_id)
            steps = record.total
    finally:
        remove_seat(seat_name)
    tutor_median, cli_median = statistics.median(tutor_s), statistics.median(cli_s)
    return {
        "pairs": pairs,
        "steps": steps,
        "first_build_s": round(first.result.seconds, 2),
        "tutor_median_ms": round(tutor_median * 1000, 1),
        "docker_build_q_median_ms": round(cli_median * 1000, 1),
        "ratio": round(tutor_median / cli_median, 3),
        "tutor_ms": [round(x * 1000, 1) for x in tutor_s],
        "docker_build_q_ms": [round(x * 1000, 1) for x in cli_s],
    }


if __name__ == "__main__":
    import json

    print(json.dumps(measure(10), indent=2))
