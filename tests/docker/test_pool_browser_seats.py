"""`tutor serve --kiosk --pool`: browser tabs in headless Chromium become seats on a pool of two
private tcp engines, one on each; `tutor pool status` shows them; killing one engine tells its
seat plainly and leaves the other seat working."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import ROOT, missing
from tests.docker.test_workshop import CHROMIUM, DevTools, _stop, free_port, wait_port
from tests.pool_engines import pool_engines
from tutor import fmt
from tutor.workshop.config import hash_pin
from tutor.workshop.pool import seats_now


@pytest.mark.timeout(600)
def test_tabs_go_to_the_pool_engines_and_a_dead_engine_is_told(tmp_path: Path):
    if not Path(CHROMIUM).exists():
        missing("headless Chromium is not installed (Debian's chromium package; .ci/run installs it)")
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'seat = "pytest-pool"\npin_hash = "{hash_pin("8642")}"\nexport_dir = "exports"\n'
        "idle_timeout_minutes = 0\nport_range = [18680, 18699]\n"
    )
    root = tmp_path / "seats"
    with pool_engines(2) as (one, two):
        pool_file = tmp_path / "pool.toml"
        pool_file.write_text(
            f'[[engine]]\nname = "one"\nurl = "{one.url}"\nseats = 1\n\n'
            f'[[engine]]\nname = "two"\nurl = "{two.url}"\nseats = 1\n'
        )
        port = free_port()
        log = tmp_path / "serve.log"
        with open(log, "w") as out:
            serve = subprocess.Popen(
                [sys.executable, "-m", "tutor", "serve", "--port", str(port), "--kiosk", str(config),
                 "--root", str(root), "--pool", str(pool_file)],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        try:
            wait_port(port, serve, log)
            said = log.read_text()
            assert "pool: one " in said and "pool: two " in said and "2 engines, 0 of 2 seats taken" in said

            def status() -> str:
                return subprocess.run(
                    [sys.executable, "-m", "tutor", "pool", "status", str(pool_file), "--root", str(root)],
                    cwd=ROOT, capture_output=True, text=True,
                ).stdout  # fmt: skip

            seen = _with_chromium(f"http://127.0.0.1:{port}/", root, two, status, log)
        finally:
            _stop(serve)
    first, second, placed, table, told, other = seen
    assert sorted(placed.values()) == ["one", "two"]
    seat_on = {engine: seat for seat, engine in placed.items()}
    # Each tab's status line names its own engine: its process was handed it.
    assert fmt.engine_label(one.url) in first and fmt.engine_label(two.url) in second
    assert "seat ready" in first and "seat ready" in second
    assert [line.split()[:3] for line in table.splitlines()[1:3]] == [["one", one.url, "1/1"], ["two", two.url, "1/1"]]
    # The killed engine's seat is told in words; tutor serve says it too; the other seat is still ready.
    assert "Engine down" in told and "stopped answering" in told
    assert f"engine two ({two.url}) stopped answering" in log.read_text()
    assert seat_on["two"] in log.read_text()
    assert "seat ready" in other


def _with_chromium(url: str, root: Path, killed, status, log: Path):
    profile = Path(tempfile.mkdtemp(prefix="tutor-chromium-"))
    chromium = subprocess.Popen(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--window-size=1280,800", "--remote-debugging-port=0", "about:blank",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (active.exists() and len(active.read_text().split()) == 2):
            assert time.monotonic() < deadline, "Chromium did not open its DevTools port"
            time.sleep(0.1)
        devtools_port, browser_path = active.read_text().split()
        return asyncio.run(_drive(f"ws://127.0.0.1:{devtools_port}{browser_path}", url, root, killed, status, log))
    finally:
        chromium.terminate()
        chromium.wait(timeout=20)
        shutil.rmtree(profile, ignore_errors=True)


async def _drive(browser_ws: str, url: str, root: Path, killed, status, log: Path):
    async with aiohttp.ClientSession() as http, http.ws_connect(browser_ws, max_msg_size=0) as ws:
        devtools = DevTools(ws)
        target_one, tab_one = await devtools.open_tab(url)
        first = await devtools.wait_for_text(tab_one, "Seat  ", "seat ready")
        target_two, tab_two = await devtools.open_tab(url)
        second = await devtools.wait_for_text(tab_two, "Seat  ", "seat ready")
        placed = seats_now(root)
        table = await asyncio.to_thread(status)
        on_two = next(seat for seat, engine in placed.items() if engine == "two")
        killed_tab, other_tab = (tab_two, tab_one) if on_two in second else (tab_one, tab_two)
        killed.kill()
        # The seat's own engine check (every 10 s) finds it gone and says so.
        told = await devtools.wait_for_text(killed_tab, "Engine down", timeout=60)
        deadline = time.monotonic() + 30
        while "stopped answering" not in log.read_text() and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        other = await devtools.terminal_text(other_tab)
        for target in (target_one, target_two):
            await devtools.send("Target.closeTarget", {"targetId": target})
    return first, second, placed, table, told, other
