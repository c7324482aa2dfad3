"""Running what was built, on the real engine: run with -p and probe, the busy port, the
unpublished port, exec, logs, stop/rm/rmi, `tutor run` and `tutor clean` as a learner types them.

go_app is built once for the module (a cached rebuild after the first time).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.conftest import ROOT, TEST_SEAT
from tutor.engine import labels
from tutor.engine.build import Build, BuildRequest
from tutor.engine.containers import (
    ContainerError,
    ContainerInfo,
    ContainerMissing,
    NotManaged,
    PortBinding,
    PortInUse,
    cleanup_seat,
    exec_in,
    exposed_ports,
    inspect_container,
    list_containers,
    logs,
    remove_container,
    remove_image,
    run_container,
    stop_container,
)
from tutor.engine.events import BuildFailed, BuildSucceeded
from tutor.engine.ports import find_free_port, is_port_free
from tutor.engine.probe import explain_unpublished, probe, wait_ready

GO_TAG = "tutor/pytest/containers-go_app:latest"
HELLO = "Hello, Docker with Go!\n"
TUTOR = [sys.executable, "-m", "tutor"]


def _build(context: Path, tag: str, seat: str = TEST_SEAT) -> str:
    events = list(Build(BuildRequest(context, tag=tag, labels=labels.managed_labels(seat, kind="build"))).events())
    last = events[-1]
    assert isinstance(last, BuildSucceeded), last.message if isinstance(last, BuildFailed) else last
    return tag


def _tiny(tmp: Path, tag: str, dockerfile: str, seat: str = TEST_SEAT) -> str:
    """A one-line image on the alpine base: builds in about a second."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "Dockerfile").write_text(dockerfile)
    return _build(tmp, tag, seat)


def _image_exists(api: docker.APIClient, ref: str) -> bool:
    try:
        api.inspect_image(ref)
        return True
    except docker.errors.ImageNotFound:
        return False


def _ours(api: docker.APIClient, image: str) -> list[dict]:
    """Containers of the test seat made from ``image`` (other test modules use the seat too)."""
    return api.containers(all=True, filters={"label": [f"{labels.SEAT}={TEST_SEAT}"], "ancestor": image})


@pytest.fixture(scope="module")
def go_image(engine_api: docker.APIClient, base_images, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    context = tmp_path_factory.mktemp("containers") / "go_app"
    shutil.copytree(ROOT / "go_app", context)
    yield _build(context, GO_TAG)
    # The module's own objects go; after it, none of its containers remain.
    for c in _ours(engine_api, GO_TAG):
        engine_api.remove_container(c["Id"], force=True, v=True)
    assert _ours(engine_api, GO_TAG) == []
    try:
        engine_api.remove_image(GO_TAG)
    except docker.errors.APIError:
        pass  # the session teardown removes what is left of the seat


@pytest.fixture
def started(engine_api: docker.APIClient) -> Iterator[list[ContainerInfo]]:
    """Containers a test starts; removed after it, whatever happened."""
    made: list[ContainerInfo] = []
    yield made
    for info in made:
        try:
            engine_api.remove_container(info.id, force=True, v=True)
        except docker.errors.NotFound:
            pass


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _tutor(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*TUTOR, *args], check=False, capture_output=True, text=True, cwd=ROOT, timeout=timeout, env={**os.environ, **(env or {})}
    )
    assert "Traceback" not in done.stdout + done.stderr
    return done


# --------------------------------------------------------------------------- run + probe


def test_run_with_p_answers_on_the_published_port(engine_api, go_image, started) -> None:
    port = find_free_port(18080)
    info = run_container(engine_api, go_image, ports={port: 8080}, seat=TEST_SEAT)
    started.append(info)

    assert info.running and info.name.startswith(f"tutor-{TEST_SEAT}-")
    assert info.ports == (PortBinding("127.0.0.1", port, 8080),)
    assert info.cli == f"docker run -d -p 127.0.0.1:{port}:8080 --name {info.name} {go_image}"
    assert info.labels[labels.MANAGED] == "true"
    assert info.labels[labels.SEAT] == TEST_SEAT
    assert info.labels[labels.KIND] == "container"

    host_config = engine_api.inspect_container(info.id)["HostConfig"]
    assert host_config["Privileged"] is False and not host_config.get("Binds") and not host_config.get("Mounts")

    assert wait_ready(port, timeout=15)
    result = probe(port)
    assert result.ok and result.status == 200
    assert result.body == HELLO
    assert result.cli == f"curl http://localhost:{port}/"
    assert result.summary().endswith(": Hello, Docker with Go!")

    listed = {c.id: c for c in list_containers(engine_api, seat=TEST_SEAT)}
    assert info.id in listed and listed[info.id].ports == info.ports
    assert "--filter label=io.tutor.seat=pytest" in listed[info.id].cli


def test_a_busy_host_port_is_found_before_the_run_and_a_free_one_offered(engine_api, go_image, busy_port) -> None:
    before = len(_ours(engine_api, go_image))
    with pytest.raises(PortInUse) as info:
        run_container(engine_api, go_image, ports={busy_port: 8080}, seat=TEST_SEAT)
    offered = info.value.suggestion
    assert offered != busy_port and is_port_free(offered)
    assert f"host port {busy_port} is already in use" in info.value.message
    assert f"-p {offered}:" in info.value.fix
    assert len(_ours(engine_api, go_image)) == before  # nothing was created


def test_without_p_the_request_fails_and_the_explanation_names_expose_and_p(engine_api, go_image, started) -> None:
    info = run_container(engine_api, go_image, seat=TEST_SEAT)
    started.append(info)
    assert info.ports == () and info.exposed == (8080,)
    assert exposed_ports(engine_api, go_image) == (8080,)

    # The server does run: inside the container it answers ...
    inside = exec_in(engine_api, info.id, "wget -qO- http://127.0.0.1:8080/")
    deadline = time.monotonic() + 15
    while inside.output != HELLO and time.monotonic() < deadline:
        time.sleep(0.2)
        inside = exec_in(engine_api, info.id, "wget -qO- http://127.0.0.1:8080/")
    assert inside.output == HELLO
    # ... but from this machine nothing reaches it (8080 may be someone else's: ask a port nobody holds).
    port = 8080 if is_port_free(8080) else find_free_port(18080)
    result = probe(port, timeout=0.5)
    assert not result.ok and result.status is None and "refused" in result.error

    text = explain_unpublished(info, exposed_ports(engine_api, go_image))
    assert "EXPOSE 8080" in text and "only documents" in text
    assert "-p HOST:CONTAINER" in text and f"-p 8080:8080 {go_image}" in text


# --------------------------------------------------------------------------- exec, logs, stop, rm


def test_exec_runs_commands_in_the_container(engine_api, go_image, started) -> None:
    info = run_container(engine_api, go_image, seat=TEST_SEAT)
    started.append(info)

    listing = exec_in(engine_api, info.name, "ls /app")
    assert listing.exit_code == 0 and "main" in listing.output.split()
    assert listing.cli == f"docker exec {info.name} ls /app"

    hostname = exec_in(engine_api, info.id, "cat /etc/hostname")
    assert hostname.output.strip() == info.short_id  # a container's hostname is its short id

    shell = exec_in(engine_api, info.id, "echo $HOME | tr a-z A-Z")
    assert shell.output.strip() == "/ROOT"
    assert shell.cli == f"docker exec {info.name} sh -c 'echo $HOME | tr a-z A-Z'"

    failing = exec_in(engine_api, info.id, "ls /nope")
    assert failing.exit_code != 0 and "nope" in failing.output


def test_logs_follow_until_the_container_stops_then_stop_and_rm(engine_api, go_image, started) -> None:
    info = run_container(engine_api, go_image, seat=TEST_SEAT)
    started.append(info)
    stream = logs(engine_api, info.id, follow=True)
    assert stream.cli == f"docker logs -f {info.id}"
    seen: list[str] = []
    greeted = threading.Event()

    def read() -> None:
        for line in stream:
            seen.append(line)
            if "Server running on port 8080..." in line:
                greeted.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert greeted.wait(15), seen
    assert reader.is_alive()  # following: the stream waits for more

    stopped = stop_container(engine_api, info.id)
    assert stopped.cli == f"docker stop {info.name}"
    reader.join(10)
    assert not reader.is_alive()  # the stream ended by itself when the container stopped
    assert seen == ["Server running on port 8080..."]
    assert inspect_container(engine_api, info.id).status == "exited"

    removed = remove_container(engine_api, info.id)
    assert removed.cli == f"docker rm {info.name}"
    with pytest.raises(ContainerMissing):
        inspect_container(engine_api, info.id)


def test_a_log_stream_can_be_closed_from_another_thread(engine_api, go_image, started) -> None:
    info = run_container(engine_api, go_image, seat=TEST_SEAT)
    started.append(info)
    stream = logs(engine_api, info.id)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.extend(stream), daemon=True)
    reader.start()
    time.sleep(0.5)
    stream.close()
    reader.join(5)
    assert not reader.is_alive()
    assert inspect_container(engine_api, info.id).running  # closing the stream leaves the container alone


def test_rm_of_a_running_container_needs_force(engine_api, go_image, started) -> None:
    info = run_container(engine_api, go_image, seat=TEST_SEAT)
    started.append(info)
    with pytest.raises(ContainerError) as refused:
        remove_container(engine_api, info.id)
    assert "force" in refused.value.fix
    assert remove_container(engine_api, info.id, force=True).cli == f"docker rm -f {info.name}"
    assert info.id not in {c["Id"] for c in _ours(engine_api, go_image)}


def test_rmi_removes_a_tutor_image_and_refuses_anything_else(engine_api, go_image, tmp_path) -> None:
    tag = _tiny(tmp_path / "tiny", "tutor/pytest/containers-tiny:latest", 'FROM alpine:latest\nCMD ["true"]\n')
    removed = remove_image(engine_api, tag)
    assert removed.cli == f"docker rmi {tag}"
    assert not _image_exists(engine_api, tag)

    # A base image: refused, and still there.
    for base in ("alpine:latest", "golang:1.24-alpine"):
        with pytest.raises(NotManaged) as refused:
            remove_image(engine_api, base)
        assert "never removes" in refused.value.message
        assert _image_exists(engine_api, base)

    # An image without the label (a build step below the one that added it): refused.
    parent = engine_api.inspect_image(go_image)
    while (parent["Config"].get("Labels") or {}).get(labels.MANAGED) == "true":
        parent = engine_api.inspect_image(parent["Parent"])
    with pytest.raises(NotManaged) as refused:
        remove_image(engine_api, parent["Id"])
    assert f"does not carry {labels.MANAGED}=true" in refused.value.message
    assert _image_exists(engine_api, parent["Id"])


def test_stop_and_rm_refuse_containers_the_tutor_did_not_make(engine_api, go_image) -> None:
    # Created (never started) without the tutor's labels, only to be refused.
    foreign = engine_api.create_container("alpine:latest", command=["true"], labels={labels.SEAT: TEST_SEAT})
    try:
        with pytest.raises(NotManaged):
            stop_container(engine_api, foreign["Id"])
        with pytest.raises(NotManaged):
            remove_container(engine_api, foreign["Id"], force=True)
        assert engine_api.inspect_container(foreign["Id"])
    finally:
        engine_api.remove_container(foreign["Id"], force=True)


# --------------------------------------------------------------------------- tutor run / tutor clean


def test_tutor_run_probes_prints_the_cli_and_removes_the_container(engine_api, go_image) -> None:
    port = find_free_port(18080)
    done = _tutor("run", go_image, "-p", f"{port}:8080")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    name = re.search(r"--name (tutor-pytest-[0-9a-f]+)", out).group(1)
    assert f"$ docker run -d -p 127.0.0.1:{port}:8080 --name {name} {go_image}" in out
    assert f"$ curl http://localhost:{port}/" in out
    assert re.search(r"^200 OK in \d+ ms: Hello, Docker with Go!$", out, re.MULTILINE), out
    assert "  | Server running on port 8080..." in out
    assert f"$ docker stop {name}" in out and f"$ docker rm {name}" in out
    assert not engine_api.containers(all=True, filters={"name": name})


def test_tutor_run_without_p_explains_the_unpublished_port(engine_api, go_image) -> None:
    done = _tutor("run", go_image, "--probe", "/")
    assert done.returncode == 1
    assert "EXPOSE 8080" in done.stdout and "-p HOST:CONTAINER" in done.stdout
    assert "$ docker run -d --name tutor-pytest-" in done.stdout


def test_tutor_run_refuses_a_busy_port_and_offers_a_free_one(engine_api, go_image, busy_port) -> None:
    done = _tutor("run", go_image, "-p", f"{busy_port}:8080")
    assert done.returncode == 1
    assert f"host port {busy_port} is already in use" in done.stdout
    offered = int(re.search(r"-p (\d+):CONTAINER", done.stdout).group(1))
    assert offered != busy_port


def test_tutor_run_bad_input_gets_a_message(engine_api) -> None:
    bad = _tutor("run", "alpine:latest", "-p", "80:eighty")
    assert bad.returncode == 2 and "container port 'eighty' is not a number" in bad.stderr
    missing = _tutor("run", "tutor/pytest/no-such-image:latest", "-p", "18080:8080")
    assert missing.returncode == 1 and "no image tutor/pytest/no-such-image:latest" in missing.stdout
    assert "fix:" in missing.stdout


def test_tutor_commands_without_an_engine_exit_2_with_the_fix(engine_api) -> None:
    env = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    for args in (["clean"], ["run", "alpine:latest"]):
        done = _tutor(*args, env=env)
        assert done.returncode == 2
        assert "error: No Docker engine socket at /nonexistent/docker.sock" in done.stdout
        assert "fix: Start the Docker engine" in done.stdout


@pytest.fixture
def clean_seat(engine_api: docker.APIClient) -> Iterator[str]:
    """A seat of its own, so `tutor clean` cannot touch what other tests of the seat made."""
    seat = f"pytest-clean-{secrets.token_hex(3)}"
    yield seat
    cleanup_seat(engine_api, seat)
    assert not engine_api.containers(all=True, filters=labels.seat_filter(seat))
    assert not engine_api.images(filters=labels.seat_filter(seat))


def test_cleanup_seat_removes_the_seat_children_first_and_nothing_else(engine_api, go_image, tmp_path, clean_seat) -> None:
    parent = _tiny(tmp_path / "a", f"tutor/{clean_seat}/parent:latest", 'FROM alpine:latest\nCMD ["sleep", "60"]\n', clean_seat)
    child = _tiny(tmp_path / "b", f"tutor/{clean_seat}/child:latest", f"FROM {parent}\nENV LEVEL=child\n", clean_seat)
    run_container(engine_api, child, seat=clean_seat)
    run_container(engine_api, parent, seat=clean_seat)

    result = cleanup_seat(engine_api, clean_seat)
    assert (result.containers_removed, result.images_removed) == (2, 2), result
    assert result.failures == () and result.kept == ()
    assert result.summary() == "removed 2 containers and 2 images"
    assert "--filter label=io.tutor.seat=" + clean_seat in result.cli
    assert not _image_exists(engine_api, parent) and not _image_exists(engine_api, child)
    assert _image_exists(engine_api, "alpine:latest") and _image_exists(engine_api, go_image)


def test_tutor_clean_removes_the_seat_and_says_how_many(engine_api, go_image, tmp_path, clean_seat) -> None:
    image = _tiny(tmp_path / "c", f"tutor/{clean_seat}/tiny:latest", 'FROM alpine:latest\nCMD ["sleep", "60"]\n', clean_seat)
    info = run_container(engine_api, image, seat=clean_seat)
    assert info.labels[labels.SEAT] == clean_seat

    done = _tutor("clean", env={"TUTOR_SEAT": clean_seat})  # the seat comes from TUTOR_SEAT
    assert done.returncode == 0, done.stdout
    assert f"removed 1 container and 1 image of seat {clean_seat}" in done.stdout
    assert not _image_exists(engine_api, image)
    assert _image_exists(engine_api, "alpine:latest") and _image_exists(engine_api, go_image)

    again = _tutor("clean", "--seat", clean_seat)
    assert again.returncode == 0 and f"removed 0 containers and 0 images of seat {clean_seat}" in again.stdout
