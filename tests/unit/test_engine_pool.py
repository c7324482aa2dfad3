"""The engine pool file, where each new seat goes, and what the pool's state says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tutor.workshop import browser_seat
from tutor.workshop import pool as pl
from tutor.workshop.pool import Health, PoolError, assign, load_pool, pool_state, release, seats_now, write_health

GOOD = """\
[[engine]]
name = "front"
url = "unix:///var/run/docker.sock"
seats = 2

[[engine]]
url = "tcp://10.0.0.5:2375"
seats = 3

[[engine]]
name = "back"
url = "ssh://tutor@10.0.0.6"
seats = 1
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pool.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_pool_file_names_engines_and_their_seats(tmp_path):
    pool = load_pool(write(tmp_path, GOOD))
    assert [(e.name, e.url, e.seats) for e in pool.engines] == [
        ("front", "unix:///var/run/docker.sock", 2),
        ("10.0.0.5-2375", "tcp://10.0.0.5:2375", 3),
        ("back", "ssh://tutor@10.0.0.6", 1),
    ]
    assert pool.seats == 6


def test_the_shipped_example_pool_loads():
    pool = load_pool(ROOT / "docs" / "pool-example.toml")
    assert len(pool.engines) >= 2


def test_every_problem_is_reported_at_once_with_its_line_and_a_did_you_mean(tmp_path):
    text = """\
engines = 1

[[engine]]
url = "tpc://10.0.0.5:2375"
sets = 3

[[engine]]
name = "Front Desk"
url = "unix:///var/run/docker.sock"
seats = 0

[[engine]]
url = "tcp://10.0.0.7:2376"
seats = 4
tls_verify = true
"""
    path = write(tmp_path, text)
    with pytest.raises(PoolError) as caught:
        load_pool(path)
    problems = caught.value.problems
    said = "\n".join(problems)
    assert f"{path}:1: unknown setting 'engines' (did you mean 'engine'?)" in said
    assert f"{path}:4: 'tpc://10.0.0.5:2375' is not an engine URL a pool takes: unix://, tcp:// or ssh:// (did you mean tcp://?)" in said
    assert f"{path}:5: unknown setting 'sets' (did you mean 'seats'?)" in said
    assert f"{path}:3: this engine has no seats" in said
    assert f"{path}:8: name should be lowercase" in said
    assert f"{path}:10: seats should be a whole number of seats from 1 to 1000, found 0" in said
    assert f"{path}:15: tls_verify needs cert_path" in said
    assert len(problems) == 7


def test_twice_the_same_engine_or_name_is_refused(tmp_path):
    text = GOOD + '\n[[engine]]\nname = "front"\nurl = "tcp://10.0.0.5:2375"\nseats = 1\n'
    path = write(tmp_path, text)
    with pytest.raises(PoolError) as caught:
        load_pool(path)
    said = "\n".join(caught.value.problems)
    assert f"{path}:17: tcp://10.0.0.5:2375 is listed twice (first at line 7)" in said
    assert f"{path}:16: two engines are named 'front' (the other at line 2)" in said


def test_tls_settings_need_their_certificates(tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "ca.pem").write_text("x")
    text = '[[engine]]\nurl = "tcp://10.0.0.5:2376"\nseats = 4\ntls_verify = true\ncert_path = "certs"\n'
    path = write(tmp_path, text)
    with pytest.raises(PoolError) as caught:
        load_pool(path)
    assert caught.value.problems == (
        f"{path}:5: {certs} lacks cert.pem, key.pem: the folder holds the engine's CA and this machine's "
        "client certificate, as DOCKER_CERT_PATH does",
    )
    (certs / "cert.pem").write_text("x")
    (certs / "key.pem").write_text("x")
    engine = load_pool(path).engines[0]
    env = engine.environment({"DOCKER_HOST": "unix:///elsewhere.sock", "DOCKER_CONTEXT": "other", "PATH": "/bin"})
    assert env == {"PATH": "/bin", "DOCKER_HOST": "tcp://10.0.0.5:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)}


def test_an_engine_without_tls_drops_the_serving_machines_tls_settings():
    engine = pl.PoolEngine("a", "tcp://10.0.0.5:2375", 3)
    env = engine.environment({"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/x", "HOME": "/h"})
    assert env == {"HOME": "/h", "DOCKER_HOST": "tcp://10.0.0.5:2375"}


def test_broken_toml_names_its_line(tmp_path):
    path = write(tmp_path, '[[engine]]\nurl = "tcp://a:1"\nseats = \n')
    with pytest.raises(PoolError) as caught:
        load_pool(path)
    assert caught.value.problems[0].startswith(f"{path}:3: not valid TOML")


def test_a_new_seat_goes_to_the_engine_with_the_most_free_room(tmp_path):
    pool = load_pool(write(tmp_path, GOOD))
    root = tmp_path / "seats"
    up = lambda engine: None  # noqa: E731
    placed = [assign(pool, root, f"s{i}", pinger=up).engine.name for i in range(6)]
    # room 2, 3, 1: the tcp engine first, then whichever has more left (the file's order on a tie)
    assert placed == ["10.0.0.5-2375", "front", "10.0.0.5-2375", "front", "10.0.0.5-2375", "back"]
    over = assign(pool, root, "s6", pinger=up)
    assert over.full
    release(root, "s1")
    assert assign(pool, root, "s7", pinger=up).engine.name == "front"
    assert "s1" not in seats_now(root)


def test_an_engine_that_does_not_answer_gets_no_new_seats(tmp_path):
    pool = load_pool(write(tmp_path, GOOD))
    root = tmp_path / "seats"
    asked: list[str] = []

    def pinger(engine):
        asked.append(engine.name)
        return "No Docker engine answers at tcp://10.0.0.5:2375 (connection refused)." if engine.name == "10.0.0.5-2375" else None

    assert assign(pool, root, "a", pinger=pinger).engine.name == "front"
    assert asked == ["10.0.0.5-2375", "front"]
    asked.clear()
    # Now known down (for HEALTH_FRESH seconds): not even asked again.
    assert assign(pool, root, "b", pinger=pinger).engine.name == "front"
    assert asked == ["front"]
    state = pool_state(pool, root, pinger=pinger)
    assert [(e.engine.name, e.up, e.seats) for e in state.engines] == [
        ("front", True, ("a", "b")),
        ("10.0.0.5-2375", False, ()),
        ("back", True, ()),
    ]


def test_when_no_engine_answers_the_seat_still_gets_one_and_says_why_when_it_starts(tmp_path):
    pool = load_pool(write(tmp_path, GOOD))
    placed = assign(pool, tmp_path / "seats", "a", pinger=lambda e: "down")
    assert placed.all_down and placed.engine.name == "10.0.0.5-2375"


def test_a_seat_whose_process_died_frees_its_place(tmp_path):
    pool = load_pool(write(tmp_path, GOOD))
    root = tmp_path / "seats"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assign(pool, root, "gone", pid=dead.pid, pinger=lambda e: None)
    assert seats_now(root) == {}


def test_the_state_shows_seats_per_engine_and_the_engines_down(tmp_path):
    pool = load_pool(write(tmp_path, GOOD))
    root = tmp_path / "seats"
    for seat in ("a", "b", "c"):
        assign(pool, root, seat, pinger=lambda e: None)
    import time

    write_health(root, {
        "front": Health(True, time.time()),
        "10.0.0.5-2375": Health(False, time.time(), "No Docker engine answers at tcp://10.0.0.5:2375 (connection refused)."),
        "back": Health(True, time.time()),
    })  # fmt: skip
    lines = pool_state(pool, root).lines()
    assert lines[0].split() == ["engine", "url", "seats", "state"]
    assert lines[1].split()[:4] == ["front", "unix:///var/run/docker.sock", "1/2", "up"]
    assert lines[2].split()[:4] == ["10.0.0.5-2375", "tcp://10.0.0.5:2375", "2/3", "DOWN:"]
    assert lines[4] == "3 engines, 3 of 6 seats taken; down: 10.0.0.5-2375 (new seats go elsewhere; its 2 seats told)"
    assert "  10.0.0.5-2375: a, c" in lines


def test_the_monitor_says_when_an_engine_goes_down_and_comes_back(tmp_path):
    pool = load_pool(write(tmp_path, GOOD))
    root = tmp_path / "seats"
    assign(pool, root, "a", pinger=lambda e: None)
    down: set[str] = set()
    said: list[str] = []
    monitor = pl.PoolMonitor(pool, root, said.append, pinger=lambda e: "refused." if e.name in down else None)
    monitor.check_once()
    assert said == []
    down.add("10.0.0.5-2375")
    monitor.check_once()
    assert said == [
        "engine 10.0.0.5-2375 (tcp://10.0.0.5:2375) stopped answering: refused. its 1 seat (a) is told the "
        "engine is down; new seats go to front, back"
    ]
    down.clear()
    monitor.check_once()
    assert said[-1] == "engine 10.0.0.5-2375 (tcp://10.0.0.5:2375) answers again: it takes new seats"


def test_a_browser_seat_from_the_pool_hands_its_engine_to_the_seats_process(tmp_path, monkeypatch):
    pool_file = write(tmp_path, GOOD)
    root = tmp_path / "seats"
    monkeypatch.setattr(pl, "ping", lambda engine, timeout=3: None)
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    seen = {}

    def serve(seat, argv, base=None):
        seen.update(seat=seat, argv=list(argv), base=dict(base or {}), while_serving=seats_now(root))
        return 0

    from tutor.workshop import seat_process

    monkeypatch.setattr(seat_process, "serve", serve)
    assert browser_seat.main(["--root", str(root), "--pool", str(pool_file), "--engine", "unix:///nope.sock"]) == 0
    name = seen["seat"].name
    assert seen["seat"].engine == "tcp://10.0.0.5:2375" and seen["seat"].home == root / name
    argv = seen["argv"]
    assert argv[argv.index("--engine") + 1] == "tcp://10.0.0.5:2375" and argv.count("--engine") == 1
    assert argv[-2:] == ["--seat", name]
    assert seen["base"]["DOCKER_HOST"] == "tcp://10.0.0.5:2375" and "DOCKER_TLS_VERIFY" not in seen["base"]
    assert seen["while_serving"] == {name: "10.0.0.5-2375"}
    assert seats_now(root) == {}  # released when the seat's process ended
    assert not (root / name / browser_seat.ENGINE_NOTE).exists()


def _tutor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tutor", *args], capture_output=True, text=True, cwd=ROOT, env={**os.environ, **(env or {})}
    )


def test_serve_reports_every_problem_of_the_pool_file(tmp_path):
    path = write(tmp_path, '[[engine]]\nurl = "tcp://a:1"\nsets = 2\n')
    done = _tutor("serve", "--pool", str(path), "--port", "8765")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: the pool file cannot be used:",
        f"  {path}:3: unknown setting 'sets' (did you mean 'seats'?)",
        f"  {path}:1: this engine has no seats: how many seats it takes, e.g. seats = 10",
    ]
    assert "Traceback" not in done.stderr


def test_pool_status_prints_the_table_and_fails_when_an_engine_is_down(tmp_path):
    path = write(tmp_path, f'[[engine]]\nname = "gone"\nurl = "unix://{tmp_path}/none.sock"\nseats = 2\n')
    done = _tutor("pool", "status", str(path), "--root", str(tmp_path / "seats"))
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].split()[:4] == ["gone", f"unix://{tmp_path}/none.sock", "0/2", "DOWN:"]
    assert "No Docker engine socket at" in lines[1]
    assert lines[2].startswith("1 engines, 0 of 2 seats taken; down: gone")


def _dead_pool(tmp_path: Path) -> Path:
    return write(tmp_path, f'[[engine]]\nname = "gone"\nurl = "unix://{tmp_path}/none.sock"\nseats = 2\n')


def test_doctor_checks_every_engine_of_the_pool(tmp_path):
    done = _tutor("doctor", "--pool", str(_dead_pool(tmp_path)))
    assert done.returncode == 1, done.stderr
    assert f"== engine gone (unix://{tmp_path}/none.sock, 2 seats)" in done.stdout
    assert f"PROBLEM  engine      not reachable at unix://{tmp_path}/none.sock" in done.stdout
    assert done.stdout.rstrip().endswith("pool: 0 of 1 engines ready; not ready: gone")


def test_kiosk_check_checks_the_seat_on_every_engine_of_the_pool(tmp_path):
    from tutor.workshop.config import hash_pin

    config = tmp_path / "kiosk.toml"
    config.write_text(f'seat = "room-a"\npin_hash = "{hash_pin("7391")}"\nexport_dir = "exports"\n', encoding="utf-8")
    done = _tutor("kiosk", "--config", str(config), "check", "--pool", str(_dead_pool(tmp_path)))
    assert done.returncode == 1, done.stderr
    assert "== engine gone" in done.stdout and "seat room-a: seat not ready: No Docker engine socket at" in done.stdout
    assert done.stdout.rstrip().endswith("pool: the seat is ready on 0 of 1 engines; not on gone")


def test_pool_load_refuses_a_file_that_is_no_bundle_once(tmp_path):
    junk = tmp_path / "junk.tar"
    junk.write_text("not a tar")
    done = _tutor("pool", "load", str(_dead_pool(tmp_path)), str(junk))
    assert done.returncode == 2
    assert done.stdout.startswith("error: ") and "Traceback" not in done.stdout + done.stderr


def test_pool_load_reports_an_engine_it_cannot_reach(tmp_path):
    from tutor.workshop.pool import load_bundle_everywhere

    said: list[str] = []
    outcome = load_bundle_everywhere(load_pool(_dead_pool(tmp_path)), tmp_path / "any.tar", said.append)
    assert outcome == {"gone": f"No Docker engine socket at {tmp_path}/none.sock: the engine is not running."}
    assert said == [f"engine gone (unix://{tmp_path}/none.sock): FAILED: {outcome['gone']}"]


def test_limits_for_every_container_a_seat_runs(tmp_path):
    pool = load_pool(write(tmp_path, GOOD + '\n[limits]\nmemory = "512m"\ncpus = 1.5\npids = 256\n'))
    assert pool.limits == pl.Limits(512 * 1024 * 1024, 1.5, 256)
    assert pool.limits.describe() == "512 MB of memory, 1.5 CPUs, 256 processes"
    from tutor.workshop.limits import resources

    assert resources(pool.limits) == {
        "Memory": 512 * 1024 * 1024, "MemorySwap": 512 * 1024 * 1024, "NanoCpus": 1_500_000_000, "PidsLimit": 256,
    }  # fmt: skip
    assert load_pool(write(tmp_path, GOOD)).limits is None


def test_wrong_limits_are_reported_with_their_lines(tmp_path):
    path = write(tmp_path, GOOD + '\n[limits]\nmemory = "lots"\ncpu = 1\npids = 2\n')
    with pytest.raises(PoolError) as caught:
        load_pool(path)
    assert caught.value.problems == (
        f"{path}:17: unknown setting 'cpu' (did you mean 'cpus'?)",
        f'{path}:16: memory should be a size of at least 6m such as "512m" or "1g", found \'lots\'',
        f"{path}:18: pids should be a whole number of processes (at least 8), found 2",
    )


def test_each_engine_says_how_many_builds_it_takes_at_once(tmp_path):
    text = GOOD.replace('seats = 2\n', 'seats = 2\nbuilds = 3\n', 1)
    pool = load_pool(write(tmp_path, text))
    assert [e.builds for e in pool.engines] == [3, 2, 2]  # 2 unless the file says
    queue = pool.engines[0].build_queue(tmp_path / "room")
    assert queue.slots == 3 and queue.folder == tmp_path / "room" / ".build-queue" / "front"
    path = write(tmp_path, GOOD.replace('seats = 2\n', 'seats = 2\nbuilds = 0\n', 1))
    with pytest.raises(PoolError) as caught:
        load_pool(path)
    assert f"{path}:5: builds should be how many builds the engine takes at once, from 1 to 64, found 0" in "\n".join(caught.value.problems)
