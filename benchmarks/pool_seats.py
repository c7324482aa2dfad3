"""Thirty seats over a pool of three engines, against the same thirty on one engine; then one engine killed.

Private engines on this machine (`tests/pool_engines.py`: dockerd with its own data root, bridge
and loopback TCP port, the course's base images loaded, nothing built): tcp:// engines, so every
HTTP check is asked from the engine's side. Thirty headless seats start at once, each placed the
way a browser tab is (`browser_seat.serve_on_pool`: the engine with the most free room, the seat's
process started with that engine and the seat in its `env=`); each seat's process
(`benchmarks/headless_seat.py`) runs lesson 1's exercise as a kiosk seat does (`SeatExerciseRun`:
build go_app from a cold cache, then the HTTP check) and writes what it saw. Runs, each on fresh
engines: (1) three engines of ten seats; (2) one engine of thirty seats; (3) three engines again,
one of them killed with SIGKILL once all its seats are building, a `PoolMonitor` watching as
`tutor serve --pool` does, and one more seat placed afterwards. Wall time is from the start of
the thirty to the last seat's end; memory per seat is each seat process's peak RSS. The machine
(2 cores) runs the three engines' builds and the thirty seats' processes itself: three engines
on one machine share its CPUs, so the pool's gain here is in placement and failure isolation,
not in speed; on three machines each engine has its own.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from tests.pool_engines import pool_engines
from tutor.workshop import browser_seat
from tutor.workshop.pool import Pool, PoolEngine, PoolMonitor, assign, release

SEATS = 30


def _run_seats(pool: Pool, root: Path, seats: int, on_building=None) -> dict:
    """``seats`` headless seats at once on ``pool``; what each saw, and the wall time."""
    results: dict[str, dict] = {}
    out_dir = root / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [browser_seat.next_seat(root, "bench") for _ in range(seats)]
    go = threading.Event()

    def one(name: str) -> None:
        out = out_dir / f"{name}.json"

        def command(engine: PoolEngine) -> list[str]:
            return [sys.executable, "-m", "benchmarks.headless_seat", "--engine", engine.url, "--seat", name, "--out", str(out)]

        go.wait()
        code = browser_seat.serve_on_pool(pool, root, name, (18100, 18199), command)
        try:
            results[name] = {**json.loads(out.read_text(encoding="utf-8")), "exit": code}
        except (OSError, ValueError) as exc:
            results[name] = {"seat": name, "passed": False, "said": [f"no result: {exc}"], "exit": code}

    threads = [threading.Thread(target=one, args=(name,)) for name in names]
    for t in threads:
        t.start()
    started = time.monotonic()
    go.set()
    if on_building is not None:
        on_building(out_dir)
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    return {"wall_s": round(wall, 1), "seats": results}


def _summary(run: dict, pool: Pool) -> dict:
    seats = run["seats"].values()
    by_url = {e.url: e.name for e in pool.engines}
    per_engine = Counter(by_url.get(s.get("engine", ""), "?") for s in seats)
    passed = Counter(by_url.get(s.get("engine", ""), "?") for s in seats if s.get("passed"))
    rss = [s["peak_rss_mb"] for s in seats if "peak_rss_mb" in s]
    seconds = [s["seconds"] for s in seats if "seconds" in s]
    return {
        "wall_s": run["wall_s"],
        "passed": sum(1 for s in seats if s.get("passed")),
        "seats": len(run["seats"]),
        "seats_per_engine": dict(per_engine),
        "passed_per_engine": dict(passed),
        "seat_seconds_median": round(statistics.median(seconds), 1) if seconds else None,
        "seat_seconds_max": max(seconds) if seconds else None,
        "peak_rss_mb_median": round(statistics.median(rss), 1) if rss else None,
        "peak_rss_mb_max": max(rss) if rss else None,
        "failures": sorted({"; ".join(s.get("said", [])) for s in seats if not s.get("passed")})[:5],
    }


def _pool(engines, seats_each: int) -> Pool:
    return Pool(tuple(PoolEngine(f"e{i + 1}", e.url, seats_each) for i, e in enumerate(engines)))


def measure(seats: int = SEATS) -> dict:
    report: dict = {"seats": seats}
    with tempfile.TemporaryDirectory(prefix="tutor-pool-bench-") as tmp:
        tmp_path = Path(tmp)
        os.environ["TUTOR_HOME"] = str(tmp_path / "home")  # the benchmark's own files, not the user's
        with pool_engines(3) as engines:
            pool = _pool(engines, seats // 3)
            report["three_engines"] = _summary(_run_seats(pool, tmp_path / "three", seats), pool)
        with pool_engines(1) as engines:
            pool = _pool(engines, seats)
            report["one_engine"] = _summary(_run_seats(pool, tmp_path / "one", seats), pool)
        with pool_engines(3) as engines:
            pool = _pool(engines, seats // 3)
            root = tmp_path / "kill"
            root.mkdir()
            said: list[str] = []
            monitor = PoolMonitor(pool, root, lambda line: said.append(f"{time.strftime('%H:%M:%S')} {line}"), interval=2)
            monitor.start()
            victim = engines[1]
            killed: dict = {}

            def kill_when_building(out_dir: Path) -> None:
                # Wait on state: every seat placed on the victim has started its build.
                deadline = time.monotonic() + 900
                while time.monotonic() < deadline:
                    on_victim = [s for s, e in _placed(root).items() if e == "e2"]
                    if len(on_victim) == seats // 3 and all((out_dir / f"{s}.json.building").exists() for s in on_victim):
                        break
                    time.sleep(0.2)
                killed["at"] = time.time()
                victim.kill()
                # Wait on state: the monitor has seen it down before a new seat comes.
                while not any("stopped answering" in line for line in said) and time.monotonic() < deadline:
                    time.sleep(0.2)
                newcomer = assign(pool, root, "bench-after-kill", pid=os.getpid())
                killed["new_seat_went_to"] = newcomer.engine.name
                release(root, "bench-after-kill")

            run = _run_seats(pool, root, seats, on_building=kill_when_building)
            monitor.stop()
            seats_seen = run["seats"]
            on_victim = [s for s in seats_seen.values() if s.get("engine") == victim.url]
            others = [s for s in seats_seen.values() if s.get("engine") != victim.url]
            report["kill"] = {
                **_summary(run, pool),
                "killed_engine": "e2",
                "seats_on_killed_engine": len(on_victim),
                "killed_engine_seats_passed": sum(1 for s in on_victim if s.get("passed")),
                "what_its_seats_saw": sorted(Counter("; ".join(s.get("said", [])) for s in on_victim).items()),
                "other_seats_passed": f"{sum(1 for s in others if s.get('passed'))}/{len(others)}",
                "new_seat_after_the_kill_went_to": killed.get("new_seat_went_to"),
                "tutor_serve_said": said,
            }
    return report


def _placed(root: Path) -> dict[str, str]:
    from tutor.workshop.pool import seats_now

    return seats_now(root)


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else SEATS), indent=2))


def describe(d: dict) -> str:
    """The run's figures in words, for the performance page."""
    three, one, kill = d["three_engines"], d["one_engine"], d["kill"]
    n = d["seats"]
    spread = ", ".join(f"{k} {v}" for k, v in sorted(three["seats_per_engine"].items()))
    saw = "; ".join(f"{count} seat(s): \"{text}\"" for text, count in kill["what_its_seats_saw"]) or "nothing"
    serve = " / ".join(kill["tutor_serve_said"]) or "nothing"
    return "\n".join([
        f"**Three engines:** {three['passed']}/{n} seats passed lesson 1 ({spread}) in {three['wall_s']:.0f} s "
        f"(a seat's run: median {three['seat_seconds_median']:.0f} s, longest {three['seat_seconds_max']:.0f} s). "
        f"**One engine:** {one['passed']}/{n} in {one['wall_s']:.0f} s (median {one['seat_seconds_median']:.0f} s). "
        f"**Memory:** a seat's process peaked at {three['peak_rss_mb_median']:.0f} MB (median; at most "
        f"{three['peak_rss_mb_max']:.0f} MB), without the terminal UI a browser tab adds.",
        "",
        f"**One engine killed:** e2 was killed with its {kill['seats_on_killed_engine']} seats building; "
        f"{kill['killed_engine_seats_passed']} of them passed; what they saw: {saw}. The other seats: "
        f"{kill['other_seats_passed']} passed. `tutor serve` said: {serve}. A seat placed after the kill "
        f"went to {kill['new_seat_after_the_kill_went_to']}.",
    ])  # fmt: skip
