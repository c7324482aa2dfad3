"""The HTTP probe against real local servers, and the "forgot -p" explanation."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tutor.engine.containers import ContainerInfo, PortBinding
from tutor.engine.ports import any_free_port
from tutor.engine.probe import explain_unpublished, probe, wait_ready


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # the stdlib's name for it
        if self.path == "/":
            body, status = b"Hello, Docker with Go!\n", 200
        else:
            body, status = b"404 page not found\n", 404
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def _serve(port: int = 0) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), _Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    srv = _serve()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_probe_reads_status_body_and_latency(server: ThreadingHTTPServer) -> None:
    port = server.server_address[1]
    result = probe(port)
    assert result.ok and result.status == 200 and result.reason == "OK"
    assert result.body == "Hello, Docker with Go!\n"
    assert result.latency_ms is not None and 0 <= result.latency_ms < 2000
    assert result.cli == f"curl http://localhost:{port}/"
    assert result.summary().startswith("200 OK in ")
    assert result.summary().endswith(": Hello, Docker with Go!")


def test_an_http_error_is_an_answer_but_not_ok(server: ThreadingHTTPServer) -> None:
    result = probe(server.server_address[1], "missing")  # the leading / is added
    assert result.status == 404 and not result.ok
    assert result.url.endswith("/missing")
    assert result.attempts == 1  # an answer is not retried


def test_nothing_listening_fails_with_the_reason_after_brief_retries() -> None:
    port = any_free_port()
    started = time.monotonic()
    result = probe(port, timeout=0.5)
    took = time.monotonic() - started
    assert not result.ok and result.status is None
    assert "connection refused" in result.error
    assert result.attempts > 1
    assert 0.3 < took < 2.0
    assert result.summary().startswith(f"no answer from http://localhost:{port}/")


def test_a_connection_closed_without_answer_is_retried_then_reported() -> None:
    # What the engine's port proxy does while the server in the container is not up yet.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        stop = threading.Event()

        def drop() -> None:
            listener.settimeout(0.1)
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except OSError:
                    continue
                conn.close()

        t = threading.Thread(target=drop, daemon=True)
        t.start()
        result = probe(port, timeout=0.5)
        stop.set()
        t.join(2)
    assert result.status is None and result.attempts > 1
    assert "closed without an answer" in result.error


def test_probe_waits_for_a_server_that_starts_late() -> None:
    port = any_free_port()
    servers: list[ThreadingHTTPServer] = []
    timer = threading.Timer(0.4, lambda: servers.append(_serve(port)))
    timer.start()
    try:
        result = probe(port, timeout=3.0)
    finally:
        timer.join()
        for s in servers:
            s.shutdown()
            s.server_close()
    assert result.ok and result.body == "Hello, Docker with Go!\n"
    assert result.attempts > 1


def test_wait_ready_true_when_serving_and_false_on_timeout(server: ThreadingHTTPServer) -> None:
    assert wait_ready(server.server_address[1], timeout=2.0)
    started = time.monotonic()
    assert not wait_ready(any_free_port(), timeout=0.4)
    assert time.monotonic() - started < 1.5


def test_wait_ready_stops_early_when_the_container_is_gone() -> None:
    started = time.monotonic()
    assert not wait_ready(any_free_port(), timeout=10.0, still_running=lambda: False)
    assert time.monotonic() - started < 2.0


def _info(ports=(), exposed=(8080,)) -> ContainerInfo:
    return ContainerInfo(
        id="f" * 64, short_id="f" * 12, name="tutor-pytest-ab12", image="tutor/pytest/go_app:latest",
        status="running", ports=tuple(ports), exposed=tuple(exposed),
    )


def test_explain_unpublished_names_the_port_expose_and_p() -> None:
    text = explain_unpublished(_info())
    assert "tutor-pytest-ab12" in text
    assert "EXPOSE 8080" in text and "only documents" in text
    assert "-p HOST:CONTAINER" in text
    assert "docker run -d -p 8080:8080 tutor/pytest/go_app:latest" in text


def test_explain_unpublished_uses_the_image_ports_given() -> None:
    text = explain_unpublished(_info(exposed=()), exposed_ports=[3000])
    assert "EXPOSE 3000" in text and "-p 3000:3000" in text


def test_explain_unpublished_without_expose_still_shows_p() -> None:
    text = explain_unpublished(_info(exposed=()), exposed_ports=[])
    assert "no EXPOSE" in text and "-p HOST:CONTAINER" in text


def test_explain_unpublished_only_names_ports_not_published() -> None:
    info = _info(ports=[PortBinding("127.0.0.1", 18080, 8080)], exposed=(8080, 9090))
    text = explain_unpublished(info)
    assert "port 9090 is not published" in text and "8080," not in text
