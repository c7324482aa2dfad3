"""Many seats on one engine: 10 builds of go_app started at once, through the engine layer.

Each build runs in its own thread with its own seat (tag and labels), as ten browser
seats of a workshop would.  All must succeed; the wall time of the ten together is
compared with the same ten run one after another.

Both runs start from the layer cache of go_app (built once beforehand): every
Dockerfile step is cached, and each seat commits only its own label steps, which
are new to the engine in both runs (each run uses fresh seat names).  Rounds
alternate together / one after another; everything built is removed at the end.
"""

from __future__ import annotations

import statistics
import threading
import time

from benchmarks.scratch import build, remove_seat, request, scratch_go_app, seat
from tutor.engine.record import BuildRecord

SEATS = 10


def _together(context, seats: list[str]) -> tuple[float, list[BuildRecord | Exception]]:
    results: list[BuildRecord | Exception] = [RuntimeError("did not run")] * len(seats)
    go = threading.Event()

    def one(index: int, name: str) -> None:
        go.wait()
        try:
            results[index] = build(request(context, name))
        except Exception as exc:  # noqa: BLE001 - counted as a failed seat
            results[index] = exc

    threads = [threading.Thread(target=one, args=(i, name)) for i, name in enumerate(seats)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    go.set()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, results


def _one_after_another(context, seats: list[str]) -> tuple[float, list[BuildRecord | Exception]]:
    results: list[BuildRecord | Exception] = []
    started = time.perf_counter()
    for name in seats:
        try:
            results.append(build(request(context, name)))
        except Exception as exc:  # noqa: BLE001
            results.append(exc)
    return time.perf_counter() - started, results


def measure(rounds: int = 3) -> dict:
    used: list[str] = []
    together_s: list[float] = []
    serial_s: list[float] = []
    failures: list[str] = []
    cached_steps = total_steps = 0
    try:
        with scratch_go_app() as context:
            warm = seat("warm")
            used.append(warm)
            build(request(context, warm))  # go_app's steps are in the cache from here on
            for r in range(rounds):
                for mode, runner, times in (("par", _together, together_s), ("seq", _one_after_another, serial_s)):
                    seats = [seat(f"{mode}{r}-{i}") for i in range(SEATS)]
                    used.extend(seats)
                    seconds, results = runner(context, seats)
                    times.append(seconds)
                    for name, result in zip(seats, results):
                        if isinstance(result, Exception):
                            failures.append(f"{name}: {result}")
                        else:
                            cached_steps += result.cache_hits
                            total_steps += result.total or 0
    finally:
        for name in used:
            remove_seat(name)
    together, serial = statistics.median(together_s), statistics.median(serial_s)
    return {
        "seats": SEATS,
        "rounds": rounds,
        "builds": rounds * SEATS * 2,
        "failed": len(failures),
        "failures": failures[:5],
        "cached_steps": f"{cached_steps}/{total_steps}",
        "together_median_s": round(together, 3),
        "one_after_another_median_s": round(serial, 3),
        "speedup": round(serial / together, 2),
        "together_s": [round(x, 3) for x in together_s],
        "one_after_another_s": [round(x, 3) for x in serial_s],
    }


if __name__ == "__main__":
    import json

    print(json.dumps(measure(1), indent=2))
