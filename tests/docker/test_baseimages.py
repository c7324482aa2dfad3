"""tutor.engine.baseimages against the real engine.

The stand-in base images are shared fixtures of the suite: these tests make
them when missing and never delete them.  Everything else they create carries
the test seat's labels and is removed here (and again by the session cleanup).
"""

from __future__ import annotations

import dataclasses
import os
import time
import urllib.request

import docker
import pytest

from tests.conftest import TEST_SEAT
from tutor import paths
from tutor.engine import baseimages, labels, standins

pytestmark = pytest.mark.docker

MB = 1_000_000


def _ensure(api) -> list[str]:
    return list(standins.make_standins(api))


def test_make_standins_then_status_shows_labelled_images(engine_api):
    _ensure(engine_api)
    statuses = baseimages.status(engine_api)
    assert baseimages.missing(statuses) == []
    for s in statuses:
        assert s.state in ("present", "stand-in")
        assert s.image_id and s.image_id.startswith("sha256:")
        if s.state != "stand-in":
            continue  # a real pulled image: nothing of ours to check
        config = engine_api.inspect_image(s.name)["Config"]
        assert config["Labels"][labels.STANDIN] == s.name
        assert config["Labels"][labels.STANDIN_NOTE] == s.note
        assert s.note.startswith("offline stand-in")
        if s.name.startswith("golang:"):
            assert 150 * MB < s.size < 400 * MB
            assert "GOTOOLCHAIN=local" in config["Env"] and config["WorkingDir"] == "/go"
        else:
            assert s.size < 10 * MB


def test_make_standins_is_idempotent(engine_api):
    _ensure(engine_api)
    before = {s.name: s.image_id for s in baseimages.status(engine_api)}
    started = time.monotonic()
    lines = _ensure(engine_api)
    assert time.monotonic() - started < 5  # nothing rebuilt, nothing downloaded
    assert len(lines) == len(baseimages.COURSE_BASE_IMAGES)
    assert all("skipped" in line or "kept" in line for line in lines), lines
    assert {s.name: s.image_id for s in baseimages.status(engine_api)} == before


def test_status_of_an_image_that_is_not_there(engine_api):
    (s,) = baseimages.status(engine_api, ["tutor-pytest-no-such-image:never"])
    assert (s.state, s.image_id, s.size) == ("missing", None, None)


def test_pull_failure_is_one_clear_line(engine_api):
    # With or without a registry this image cannot be pulled: the failure must read well.
    name = "tutor-pytest-no-such-image:never"
    lines: list[str] = []
    with pytest.raises(baseimages.PullFailed) as err:
        lines.extend(baseimages.pull(engine_api, [name]))
    assert err.value.names == [name]
    failure = [line for line in lines if line.startswith(f"cannot pull {name}: ")]
    assert len(failure) == 1 and "`tutor images stand-in`" in failure[0]
    assert "Traceback" not in failure[0] and "http+docker" not in failure[0]


def _run(api, image: str, command: list[str] | None = None, **host) -> str:
    """Create and start a container of the test seat; return its id."""
    container = api.create_container(
        image,
        command=command,
        labels=labels.managed_labels(TEST_SEAT, kind="test"),
        ports=list(host.get("port_bindings", {})),
        host_config=api.create_host_config(**host),
    )
    api.start(container["Id"])
    return container["Id"]


def test_alpine_standin_is_a_working_busybox_userland(engine_api):
    _ensure(engine_api)
    script = "/bin/busybox true && test -d /root && test -w /tmp && command -v wget >/dev/null; echo ok:$?"
    cid = _run(engine_api, "alpine:latest", ["sh", "-c", script])
    try:
        assert engine_api.wait(cid, timeout=30)["StatusCode"] == 0
        assert engine_api.logs(cid).decode().strip() == "ok:0"
    finally:
        engine_api.remove_container(cid, force=True)


@pytest.mark.slow
def test_golang_standin_builds_and_serves_the_course_app(engine_api):
    """The shipped single-stage Dockerfile builds unchanged on the stand-in, and answers."""
    _ensure(engine_api)
    tag = f"tutor-pytest-baseimages-{os.getpid()}:single"
    cid = None
    try:
        for event in engine_api.build(
            path=str(paths.shipped_go_app()), tag=tag, rm=True, forcerm=True, decode=True,
            labels=labels.managed_labels(TEST_SEAT, kind="test"),
        ):
            assert "error" not in event, event
        # Built FROM the stand-in, the image inherits its label: worth knowing for cleanup filters.
        assert engine_api.inspect_image(tag)["Config"]["Labels"].get(labels.STANDIN) in (None, "golang:1.24-alpine")

        cid = _run(engine_api, tag, port_bindings={8080: None})
        port = int(engine_api.port(cid, 8080)[0]["HostPort"])
        deadline, body = time.monotonic() + 15, None
        while body is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    body = response.read().decode()
            except OSError:
                time.sleep(0.2)
        assert body is not None and "Hello, Docker with Go!" in body
    finally:
        if cid:
            engine_api.remove_container(cid, force=True)
        try:
            engine_api.remove_image(tag)
        except docker.errors.ImageNotFound:
            pass


def test_real_import_under_a_scratch_name(engine_api):
    """The import path itself, every run, without touching the shared stand-ins."""
    name = f"tutor-pytest-standin-{os.getpid()}:alpine"
    recipe = dataclasses.replace(standins._RECIPES["alpine:latest"], name=name)
    try:
        lines = list(standins._make_one(engine_api, recipe, force=False, engine_arch=standins._engine_arch(engine_api)))
        assert lines[-1].startswith(f"{name}: offline stand-in ready")
        (s,) = baseimages.status(engine_api, [name])
        assert s.state == "stand-in" and s.size < 10 * MB
        cid = _run(engine_api, name, ["sh", "-c", "cat /etc/passwd; ls -l /bin/sh"])
        try:
            assert engine_api.wait(cid, timeout=30)["StatusCode"] == 0
            out = engine_api.logs(cid).decode()
            assert out.startswith("root:x:0:0:") and "-> /bin/busybox" in out
        finally:
            engine_api.remove_container(cid, force=True)
    finally:
        try:
            engine_api.remove_image(name)
        except docker.errors.ImageNotFound:
            pass
