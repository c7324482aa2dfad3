"""BuildKit on the real engine: both ways to it (buildx, and the engine's API when buildx is not
on PATH), cancelling mid-RUN leaves no process behind, and `tutor build go_app` cold, cached and
after a main.go edit names its steps as `docker build` does and explains the miss."""

from __future__ import annotations

import io
import json
import os
import subprocess
import threading
import time
import uuid
from pathlib import Path

import docker
import pytest

from tests.conftest import TEST_SEAT
from tutor.commands.build import build as build_command
from tutor.engine import labels
from tutor.engine.build import Build, BuildRequest
from tutor.engine.build_cache import build_cache_usage
from tutor.engine.events import BuildFailed, BuildSucceeded, ContextProgress, StepOutput

TIMEOUT = 60.0


def wait_until(predicate, timeout: float = TIMEOUT, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def processes_with(text: str) -> list[int]:
    """Pids of the processes whose command line holds ``text`` (the engine's build processes too)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if text in args:
            found.append(int(entry.name))
    return found


@pytest.fixture
def no_buildx_on_path(monkeypatch, tmp_path):
    """PATH without the docker CLI (so without buildx): BuildKit must go through the engine's API."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def request(ctx: Path, tag: str, **kw) -> BuildRequest:
    return BuildRequest(ctx, tag=tag, labels=labels.managed_labels(TEST_SEAT, kind="test"), builder="buildkit", **kw)


def _cancel_mid_run(tmp_path: Path, engine_api: docker.APIClient, expected_via: str) -> None:
    seconds = 3000 + uuid.uuid4().int % 999  # a sleep no other process on this machine runs
    mark = f"tutor-cancel-{uuid.uuid4().hex[:8]}"
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f'FROM alpine:latest\nRUN echo {mark} && sleep {seconds}\nCMD ["true"]\n')
    build = Build(request(ctx, f"tutor/{TEST_SEAT}/cancel-{expected_via}:latest"))
    events: list = []

    def consume() -> None:
        for event in build.events():
            events.append(event)
            if isinstance(event, StepOutput) and mark in event.plain:
                wait_until(lambda: processes_with(f"sleep {seconds}"), what="the RUN process")
                build.cancel()

    worker = threading.Thread(target=consume, daemon=True)
    worker.start()
    worker.join(TIMEOUT * 2)
    assert not worker.is_alive(), "the build did not end after cancel()"
    assert build.via == expected_via
    assert any(isinstance(e, StepOutput) and mark in e.plain for e in events), events
    last = events[-1]
    assert isinstance(last, BuildFailed) and last.cancelled, last
    assert last.step == 2
    wait_until(lambda: not processes_with(f"sleep {seconds}"), timeout=15, what="the RUN process to go")
    assert not processes_with(mark)  # nor buildx, nor the shell of the step


def test_cancel_through_buildx_leaves_no_run_process(tmp_path, base_images, engine_api):
    _cancel_mid_run(tmp_path, engine_api, "buildx")


def test_cancel_through_the_api_leaves_no_run_process(tmp_path, base_images, engine_api, no_buildx_on_path):
    _cancel_mid_run(tmp_path, engine_api, "api")


def _small_build(tmp_path: Path, engine_api: docker.APIClient, expected_via: str) -> None:
    ctx = tmp_path / "small"
    ctx.mkdir()
    mark = uuid.uuid4().hex[:12]
    (ctx / "Dockerfile").write_text(f'FROM alpine:latest\nENV MARK={mark}\nRUN echo "$MARK" > /mark\nEXPOSE 80\nCMD ["cat", "/mark"]\n')
    tag = f"tutor/{TEST_SEAT}/small-{expected_via}:latest"
    build = Build(request(ctx, tag))
    events = list(build.events())
    assert build.via == expected_via and build.builder == "buildkit"
    done = events[-1]
    assert isinstance(done, BuildSucceeded), events
    inspect = engine_api.inspect_image(tag)
    assert inspect["Id"].split(":", 1)[1].startswith(done.image_id)
    assert inspect["Config"]["Labels"][labels.SEAT] == TEST_SEAT  # labels passed to BuildKit
    assert done.image_size and done.image_size > 1_000_000
    started = [(e.label, e.instruction, e.metadata) for e in events if e.type == "step_started"]
    assert started == [
        ("[1/2]", "FROM alpine:latest", False),
        (None, f"ENV MARK={mark}", True),
        ("[2/2]", 'RUN echo "$MARK" > /mark', False),
        (None, "EXPOSE 80", True),
        (None, 'CMD ["cat", "/mark"]', True),
    ]
    # Sizes from the image's history: FROM is the whole base image, the RUN's layer holds /mark.
    sized = {e.step: e.size for e in events if e.type == "step_size"}
    assert sized[1] == sum(int(h["Size"]) for h in engine_api.history("alpine:latest"))
    assert 0 < sized[3] < 100_000 and sized[2] == 0
    engine_api.remove_image(tag, force=True)


def test_buildkit_through_buildx(tmp_path, base_images, engine_api):
    _small_build(tmp_path, engine_api, "buildx")
    # What the build left in BuildKit's cache is counted as `docker system df` counts it.
    usage = build_cache_usage(engine_api)
    assert usage is not None and usage.records > 0 and usage.bytes > 0
    row = next(
        json.loads(line)
        for line in subprocess.run(["docker", "system", "df", "--format", "{{json .}}"], capture_output=True, text=True, check=True).stdout.splitlines()
        if json.loads(line)["Type"] == "Build Cache"
    )
    assert int(row["TotalCount"]) == usage.records


def test_buildkit_through_the_api_when_buildx_is_hidden(tmp_path, base_images, engine_api, no_buildx_on_path):
    _small_build(tmp_path, engine_api, "api")


@pytest.mark.slow
def test_tutor_build_go_app_cold_cached_and_edited_on_buildkit(go_app, engine_api):
    def run() -> tuple[int, str]:
        out = io.StringIO()
        code = build_command(str(go_app), builder="auto", out=out)
        return code, out.getvalue()

    code, first = run()
    assert code == 0, first
    assert "[5/6] COPY . ." in first and "META" in first and "no layer" in first
    assert any(line.split()[:4] == ["LAYER", "[6/6]", "RUN", "go"] and line.endswith("MB") for line in first.splitlines()), first
    code, second = run()
    assert code == 0, second
    assert "6/6 steps from cache" in second
    assert "why: All 6 steps came from the cache" in second
    main = go_app / "main.go"
    main.write_text(main.read_text().replace("Hello, Docker with Go!", f"Hello {uuid.uuid4().hex[:8]}"))
    code, third = run()
    assert code == 0, third
    lines = third.splitlines()
    built = [line for line in lines if "BUILT" in line]
    assert "[5/6] COPY . ." in built[0] and "[6/6] RUN go build -o main" in built[1], third
    assert "why: [5/6] COPY . . missed the cache because main.go changed; [6/6] was rebuilt as a consequence." in lines
    # --json: every event says which builder made it
    out = io.StringIO()
    assert build_command(str(go_app), builder="auto", as_json=True, out=out) == 0
    objects = [json.loads(line) for line in out.getvalue().splitlines()]
    assert objects and all(o["builder"] == "buildkit" for o in objects)


def test_a_stream_that_breaks_ends_the_build_with_a_message(tmp_path, base_images, monkeypatch):
    from tutor.engine.buildkit.api import ApiBuild

    def broken(self, context, dockerfile, out):
        raise ConnectionResetError("the engine hung up")

    monkeypatch.setattr(ApiBuild, "_stream", broken)
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM alpine:latest\nRUN true\n")
    events: list = []
    worker = threading.Thread(target=lambda: events.extend(ApiBuild(request(ctx, "tutor/pytest/broken:latest")).events()))
    worker.start()
    worker.join(TIMEOUT)
    assert not worker.is_alive(), "the build never ended"
    last = events[-1]
    assert isinstance(last, BuildFailed) and last.engine_lost
    assert last.message.startswith("Lost the connection to the Docker engine during the build.")


def _context_progress(tmp_path: Path, expected_via: str) -> list[ContextProgress]:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "blob.bin").write_bytes(os.urandom(8_000_000))  # random: gzip cannot shrink it
    (ctx / "Dockerfile").write_text("FROM alpine:latest\nCOPY blob.bin /blob.bin\n")
    build = Build(request(ctx, f"tutor/{TEST_SEAT}/ctx-{expected_via}:latest"))
    events = list(build.events())
    assert build.via == expected_via and isinstance(events[-1], BuildSucceeded), events[-3:]
    return [e for e in events if isinstance(e, ContextProgress)]


def test_buildx_says_how_much_of_the_context_it_sent(tmp_path, base_images, engine_api):
    progress = [e for e in _context_progress(tmp_path, "buildx") if e.phase == "sending"]
    assert progress and progress[-1].bytes >= 8_000_000 and progress[-1].total_bytes == progress[-1].bytes


def test_the_api_path_says_how_much_of_the_context_it_sent(tmp_path, base_images, engine_api, no_buildx_on_path):
    progress = [e for e in _context_progress(tmp_path, "api") if e.phase == "sending"]
    assert progress and progress[-1].total_bytes is not None and progress[-1].total_bytes >= 8_000_000
    assert progress[-1].bytes == progress[-1].total_bytes  # the last chunk went
