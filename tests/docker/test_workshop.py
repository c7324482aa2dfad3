"""Workshops on real engines.

- An offline room: the course's base images are saved into one bundle, and a
  SECOND engine (started here, its own data root, no registry, reached over a
  loopback TCP port) loads it and builds go_app for a seat through the tutor's
  engine layer.  The main engine's base images are only read, never removed.
- Many seats on one engine: five seats build at once; each ends with its own
  image; a seat's reset leaves zero objects of that seat and removes nothing of
  the others; a seat's container runs unprivileged, without host mounts, on
  127.0.0.1 and a port of the seat's range.
- Browser seats: `tutor serve --kiosk` in a subprocess, opened in headless
  Chromium driven over the DevTools protocol; each tab is a seat of its own and
  the page really renders the tutor (the terminal's text is read from the page).

The one cold build (~15-60 s: compiling net/http) warms the second engine's
cache; everything else is cached.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.conftest import ROOT, missing
from tests.pool_engines import open_bridge
from tests.second_engine import SecondEngine, second_engine
from tutor.course.loader import load_course
from tutor.engine import baseimages, containers, labels
from tutor.engine.build import Build, BuildRequest
from tutor.engine.client import connect, describe_url
from tutor.engine.doctor import check
from tutor.engine.events import BuildFailed, BuildSucceeded
from tutor.workshop.bundle import load_bundle, read_bundle_info, save_bundle
from tutor.workshop.config import hash_pin
from tutor.workshop.reset import reset_seat
from tutor.workshop.safety import SeatExerciseRun

SEATS = [f"pytest-ws-{n}" for n in range(1, 6)]
FIRST_SEAT = "pytest-ws-tcp"
PORT_RANGE = (18600, 18640)
CHROMIUM = "/usr/bin/chromium"


def build(context: Path, seat: str, engine: str) -> tuple[list, BuildSucceeded | BuildFailed | None]:
    request = BuildRequest(
        context=context,
        tag=labels.seat_tag(seat, "go_app"),
        labels=labels.managed_labels(seat, "workshop"),
        engine=engine,
    )
    events = list(Build(request).events())
    last = next((e for e in reversed(events) if isinstance(e, (BuildSucceeded, BuildFailed))), None)
    return events, last


def seat_objects(api: docker.APIClient, seat: str) -> tuple[list, list]:
    flt = labels.seat_filter(seat)
    return api.containers(all=True, filters=flt), api.images(filters=flt)


# -- the offline room: a bundle, and an engine that has never seen a registry -----------------------------


@pytest.fixture(scope="module")
def main_base_ids(engine_api, base_images) -> dict[str, str]:
    return {s.name: s.image_id for s in base_images}


@pytest.fixture(scope="module")
def bundle_file(engine_api, main_base_ids, tmp_path_factory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("bundle") / "course-images.tar"
    lines = list(save_bundle(engine_api, path))
    assert lines[-1].startswith(f"bundle written: {path}")
    yield path
    path.unlink()  # 250 MB: not kept with the test's temporary files


@pytest.fixture(scope="module")
def remote() -> Iterator[SecondEngine]:
    """A second engine on a loopback TCP port: its own data root, bridge and socket; removed after."""
    if os.geteuid() != 0 or shutil.which("dockerd") is None:
        missing("a second engine needs root and dockerd")
    # Its bridge open to its own containers' traffic: the checks ask a container from a helper beside it.
    with second_engine(tcp=True) as engine, open_bridge(engine.bridge):
        yield engine
    # dockerd leaves its data root mounted on itself, which keeps the folder: unmount and remove ours.
    data = engine.root / "data"
    if os.path.ismount(data):
        subprocess.run(["umount", str(data)], capture_output=True)
    shutil.rmtree(engine.root, ignore_errors=True)


@pytest.fixture(scope="module")
def remote_api(remote: SecondEngine) -> Iterator[docker.APIClient]:
    api = connect(remote.url)
    yield api
    api.close()


@pytest.fixture(scope="module")
def loaded(remote_api, bundle_file) -> list[str]:
    assert baseimages.missing(baseimages.status(remote_api)) == list(baseimages.COURSE_BASE_IMAGES)
    return list(load_bundle(remote_api, bundle_file))


@pytest.fixture(scope="module")
def app_copy(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("ws") / "go_app"
    shutil.copytree(ROOT / "go_app", dest)
    return dest


@pytest.fixture(scope="module")
def first_build(remote, loaded, app_copy):
    started = time.monotonic()
    events, last = build(app_copy, FIRST_SEAT, remote.url)
    return events, last, time.monotonic() - started


def test_the_bundle_holds_the_course_images_and_loads_into_an_empty_engine(
    bundle_file, loaded, remote_api, engine_api, main_base_ids
):
    info = read_bundle_info(bundle_file)
    assert info.from_tutor and info.names == baseimages.COURSE_BASE_IMAGES
    assert {i.name: i.id for i in info.images} == main_base_ids
    assert bundle_file.stat().st_size > 200_000_000  # the Go toolchain is in it
    assert "Loaded image: golang:1.24-alpine" in loaded and "Loaded image: alpine:latest" in loaded
    after = {s.name: s for s in baseimages.status(remote_api)}
    assert {n: s.image_id for n, s in after.items()} == main_base_ids
    # Stand-ins stay marked as stand-ins; real images stay real.
    main_states = {s.name: s.state for s in baseimages.status(engine_api)}
    assert {n: s.state for n, s in after.items()} == main_states
    # A second load has nothing to do; the main engine still has its images, untouched.
    assert list(load_bundle(remote_api, bundle_file))[-1] == "every image of the bundle is on the engine already: nothing to load"
    assert {s.name: s.image_id for s in baseimages.status(engine_api)} == main_base_ids


def test_the_second_engine_builds_go_app_for_a_seat_over_tcp(first_build, remote, remote_api, engine_api):
    events, last, seconds = first_build
    assert isinstance(last, BuildSucceeded), last
    tag = labels.seat_tag(FIRST_SEAT, "go_app")
    assert tag in last.tags
    image = remote_api.inspect_image(tag)
    assert image["Config"]["Labels"][labels.SEAT] == FIRST_SEAT
    assert image["Config"]["Labels"][labels.MANAGED] == "true"
    with pytest.raises(docker.errors.ImageNotFound):
        engine_api.inspect_image(tag)  # it was built there, not here
    report = check(remote.url)
    assert report.ok and report.engine.reachable and report.engine.url == remote.url
    assert describe_url(remote.url) == f"127.0.0.1:{remote.url.rsplit(':', 1)[1]}"  # what the status line shows
    print(f"cold build of go_app on the second engine: {seconds:.1f} s")


# -- many seats on one engine ----------------------------------------------------------------------------


def test_five_seats_build_at_once_and_resets_stay_in_their_seat(first_build, remote, remote_api, app_copy, tmp_path):
    assert isinstance(first_build[1], BuildSucceeded)
    results: dict[str, BuildSucceeded | BuildFailed | None] = {}
    lock = threading.Lock()

    def one(seat: str) -> None:
        _, last = build(app_copy, seat, remote.url)
        with lock:
            results[seat] = last

    started = time.monotonic()
    threads = [threading.Thread(target=one, args=(seat,)) for seat in SEATS]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    print(f"five concurrent (cached) builds: {time.monotonic() - started:.1f} s")
    assert all(isinstance(results.get(seat), BuildSucceeded) for seat in SEATS), results

    ids = {}
    for seat in SEATS:
        image = remote_api.inspect_image(labels.seat_tag(seat, "go_app"))
        assert image["Config"]["Labels"][labels.SEAT] == seat
        ids[seat] = image["Id"]
    assert len(set(ids.values())) == len(SEATS)  # an image of its own per seat

    # Seats 1 and 2 run their image the way a kiosk's exercise check does.
    course = load_course(ROOT / "lessons")
    lesson = course.lessons[0]
    running = {}
    runs = {}
    for seat in SEATS[:2]:
        runs[seat] = SeatExerciseRun(
            lesson.exercises[0], app_copy, lesson.id, seat=seat, engine=remote.url,
            workspace_root=app_copy.parent, port_range=PORT_RANGE,
        )
        running[seat] = runs[seat]._start_container(labels.seat_tag(seat, "go_app"), 8080)
    for seat, (cid, host_port) in running.items():
        data = remote_api.inspect_container(cid)
        host = data["HostConfig"]
        assert host["Privileged"] is False and not host.get("Binds") and not data.get("Mounts")
        # A tcp engine's published ports open on its host, not here: the check's container is
        # published nowhere and asked from the engine's side, by a helper beside it.
        assert host_port is None and not host.get("PortBindings")
        assert data["Config"]["Labels"][labels.SEAT] == seat
        answer = runs[seat]._ask(cid, None, "/", 8080)
        assert answer.status == 200 and "Hello, Docker with Go!" in answer.body, answer
    # A seat sees only its own containers, and may not remove another seat's image.
    assert [c.id for c in containers.list_containers(remote_api, SEATS[0], all=True)] == [running[SEATS[0]][0]]
    with pytest.raises(containers.NotManaged, match="belongs to seat"):
        containers.remove_image(remote_api, labels.seat_tag(SEATS[1], "go_app"), seat=SEATS[0])

    # Seat 1's reset: zero objects of seat 1 remain, the others keep theirs.
    result = reset_seat(SEATS[0], tmp_path / "exports", engine=remote.url, reason="instructor")
    assert result.ok, result.engine.problem
    assert result.engine.containers_removed == 1 and result.engine.images_removed == 1
    assert seat_objects(remote_api, SEATS[0]) == ([], [])
    with pytest.raises(docker.errors.ImageNotFound):
        remote_api.inspect_image(labels.seat_tag(SEATS[0], "go_app"))
    for seat in SEATS[1:]:
        assert remote_api.inspect_image(labels.seat_tag(seat, "go_app"))["Id"] == ids[seat]
    assert remote_api.inspect_container(running[SEATS[1]][0])["State"]["Running"]

    # Every seat reset: none of them leaves anything; the base images stay.
    for seat in [*SEATS[1:], FIRST_SEAT]:
        assert reset_seat(seat, tmp_path / "exports", engine=remote.url).ok
        assert seat_objects(remote_api, seat) == ([], [])
    assert not baseimages.missing(baseimages.status(remote_api))
    assert len(list((tmp_path / "exports").glob("*.json"))) == len(SEATS) + 1


# -- browser seats ---------------------------------------------------------------------------------------------


READ_TERMINAL = """function () {
  const seat = this.find(o => o && o.terminal && typeof o.websocket_url === 'string');
  if (!seat) return null;
  const buffer = seat.terminal.buffer.active, lines = [];
  for (let i = 0; i < buffer.length; i++) {
    const line = buffer.getLine(i);
    lines.push(line ? line.translateToString(true) : '');
  }
  return lines.join('\\n');
}"""


class DevTools:
    """The few DevTools-protocol calls the test needs, over one websocket."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.next_id = 0

    async def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        await self.ws.send_str(json.dumps(message))
        while True:
            reply = json.loads((await self.ws.receive(timeout=60)).data)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    async def open_tab(self, url: str, width: int = 1280, height: int = 800) -> tuple[str, str]:
        target = (await self.send("Target.createTarget", {"url": "about:blank"}))["targetId"]
        session = (await self.send("Target.attachToTarget", {"targetId": target, "flatten": True}))["sessionId"]
        # The page's terminal fits the viewport: fix its size before the page loads.
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        await self.send("Emulation.setDeviceMetricsOverride", metrics, session)
        await self.send("Runtime.enable", session=session)
        await self.send("Page.navigate", {"url": url}, session)
        return target, session

    async def terminal_text(self, session: str) -> str:
        """The rendered terminal's lines, read from xterm.js's buffer in the page."""
        proto = (await self.send("Runtime.evaluate", {"expression": "Object.prototype"}, session))["result"]["objectId"]
        objects = (await self.send("Runtime.queryObjects", {"prototypeObjectId": proto}, session))["objects"]["objectId"]
        result = await self.send(
            "Runtime.callFunctionOn", {"objectId": objects, "functionDeclaration": READ_TERMINAL, "returnByValue": True}, session
        )
        await self.send("Runtime.releaseObjectGroup", {"objectGroup": ""}, session)
        return result["result"].get("value") or ""

    async def wait_for_text(self, session: str, *needles: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            try:
                text = await self.terminal_text(session)
            except RuntimeError:
                text = ""  # the page is still loading: its script context changes under us
            if all(n in text for n in needles):
                return text
            await asyncio.sleep(0.5)
        raise AssertionError(f"the page never showed {needles}; it showed:\n{text}")

    async def press_enter(self, session: str) -> None:
        await self.send("Runtime.evaluate", {"expression": "document.querySelector('.xterm-helper-textarea').focus()"}, session)
        for kind in ("keyDown", "keyUp"):
            params = {"type": kind, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}
            if kind == "keyDown":
                params["text"] = "\r"
            await self.send("Input.dispatchKeyEvent", params, session)


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the raw (filtered) scanlines of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"tutor serve exited:\n{log.read_text()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"tutor serve did not listen on {port} within {timeout}s")


def test_browser_tabs_are_seats_of_their_own_and_render_the_course(tmp_path, base_images):
    if not Path(CHROMIUM).exists():
        missing("headless Chromium is not installed (Debian's chromium package; .ci/run installs it)")
    pin = "8642"
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'seat = "pytest-web"\npin_hash = "{hash_pin(pin)}"\nexport_dir = "exports"\n'
        f"idle_timeout_minutes = 0\nport_range = [18650, 18670]\n"
    )
    root = tmp_path / "seats"
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "w") as out:  # a file, not a pipe: nobody reads a pipe while the test runs
        serve = subprocess.Popen(
            [sys.executable, "-m", "tutor", "serve", "--port", str(port), "--kiosk", str(config), "--root", str(root)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        _check_browser_seats(serve, port, root, tmp_path)
    finally:
        _stop(serve)


def _stop(serve: subprocess.Popen) -> None:
    os.killpg(serve.pid, signal.SIGINT)
    try:
        serve.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(serve.pid, signal.SIGKILL)
        serve.wait()


def _check_browser_seats(serve: subprocess.Popen, port: int, root: Path, tmp_path: Path) -> None:
    profile = Path(tempfile.mkdtemp(prefix="tutor-chromium-"))
    chromium = None
    try:
        wait_port(port, serve, tmp_path / "serve.log")
        chromium = subprocess.Popen(
            [
                CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", "--window-size=1280,800", "--remote-debugging-port=0", "about:blank",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (active.exists() and len(active.read_text().split()) == 2):
            assert time.monotonic() < deadline, "Chromium did not open its DevTools port"
            time.sleep(0.1)
        devtools_port, browser_path = active.read_text().split()
        texts, shot = asyncio.run(_drive(f"ws://127.0.0.1:{devtools_port}{browser_path}", f"http://127.0.0.1:{port}/"))
    finally:
        if chromium is not None:
            chromium.terminate()
            chromium.wait(timeout=20)
        shutil.rmtree(profile, ignore_errors=True)

    first, second, course_map = texts
    seat_one = next(line.split("Seat", 1)[1].split()[0] for line in first.splitlines() if "Seat  " in line)
    seat_two = next(line.split("Seat", 1)[1].split()[0] for line in second.splitlines() if "Seat  " in line)
    assert seat_one.startswith("pytest-web-") and seat_two.startswith("pytest-web-") and seat_one != seat_two
    assert "seat ready" in first
    # Past the welcome screen: the course map, rendered in the browser.
    shipped = len(load_course(ROOT / "lessons").lessons)
    assert "How Docker images are made" in course_map and f"{shipped} lessons, 0 done" in course_map
    assert "Meet the app" in course_map and "Challenge: the smallest image" in course_map

    width, height, raw = png_pixels(shot)
    assert (width, height) == (1280, 800)
    assert len(set(raw)) > 20  # not a blank page: text, borders, colours
    (tmp_path / "browser-seat.png").write_bytes(shot)  # to look at when this fails

    # Closing the tabs ended both sessions; the seat that started one was exported, in kiosk mode.
    exports = tmp_path / "exports"
    seat_log = root / seat_one / "seat.log"  # written when the seat's reset is over
    deadline = time.monotonic() + 60
    while not seat_log.exists() and time.monotonic() < deadline:
        time.sleep(0.3)
    exported = list(exports.glob(f"{seat_one}_*.json"))
    assert exported, seat_log.read_text() if seat_log.exists() else "the seat was not reset within 60 s"
    assert json.loads(exported[0].read_text())["reason"] == "closed"
    assert not list(exports.glob(f"{seat_two}_*.json"))  # nobody started at seat two: nothing to export
    # Each tab's process had a home (TUTOR_HOME) and a seat (TUTOR_SEAT) of its own; seat one's was reset.
    assert seat_log.read_text().startswith(f"progress saved to {exported[0].name}")
    # The reset emptied the seat's folder, and the emptied folders went too: only the log stays.
    deadline = time.monotonic() + 10
    while sorted(p.name for p in (root / seat_one).iterdir()) != ["seat.log"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sorted(p.name for p in (root / seat_one).iterdir()) == ["seat.log"]
    assert (root / seat_two).is_dir() and not (root / seat_two / "seat.log").exists()


async def _drive(browser_ws: str, url: str) -> tuple[tuple[str, str, str], bytes]:
    import aiohttp

    async with aiohttp.ClientSession() as http, http.ws_connect(browser_ws, max_msg_size=0) as ws:
        devtools = DevTools(ws)
        target_one, tab_one = await devtools.open_tab(url)
        first = await devtools.wait_for_text(tab_one, "Seat  ", "seat ready")
        target_two, tab_two = await devtools.open_tab(url)
        second = await devtools.wait_for_text(tab_two, "Seat  ")
        await devtools.press_enter(tab_one)
        course_map = await devtools.wait_for_text(tab_one, "lessons, 0 done", "Meet the app")
        await devtools.send("Page.bringToFront", session=tab_one)
        shot = base64.b64decode((await devtools.send("Page.captureScreenshot", {"format": "png"}, tab_one))["data"])
        for target in (target_one, target_two):
            await devtools.send("Target.closeTarget", {"targetId": target})
    return (first, second, course_map), shot
