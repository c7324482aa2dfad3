"""Asking a running container's server for a page, as `curl http://localhost:PORT/` would.

Plain ``http.client``: one request, its status, body and latency.  A server
that is still starting refuses the connection (or, behind the engine's port
proxy, accepts and then drops it), so a probe retries briefly before it calls
the port dead.
"""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tutor.engine.containers import ContainerInfo

MAX_BODY = 64 * 1024  # a probe shows a page, it does not download one
RETRY_PAUSE = 0.1


@dataclass(frozen=True)
class ProbeResult:
    ok: bool  # an HTTP answer with a 2xx or 3xx status
    url: str
    status: int | None = None  # None: no HTTP answer at all
    reason: str = ""  # "OK", "Not Found" ...
    body: str = ""
    latency_ms: float | None = None  # of the request that answered
    error: str | None = None  # why there was no answer
    attempts: int = 1
    cli: str = ""

    def summary(self) -> str:
        """``200 OK in 3 ms: Hello, Docker with Go!`` or the reason nothing answered."""
        if self.status is None:
            return f"no answer from {self.url}: {self.error}"
        body = " ".join(self.body.split())
        if len(body) > 200:
            body = body[:199] + "…"
        latency = f" in {self.latency_ms:.0f} ms" if self.latency_ms is not None else ""
        return f"{self.status} {self.reason}{latency}" + (f": {body}" if body else "")


def _display_host(host: str) -> str:
    return "localhost" if host in ("127.0.0.1", "::1", "0.0.0.0", "localhost") else host


def probe_url(port: int, path: str = "/", host: str = "127.0.0.1") -> str:
    if not path.startswith("/"):
        path = "/" + path
    shown = _display_host(host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}{path}"


def _why(exc: BaseException, host: str, port: int) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused: nothing listens on {_display_host(host)}:{port}"
    if isinstance(exc, (http.client.RemoteDisconnected, ConnectionResetError, http.client.BadStatusLine)):
        # The engine's proxy accepted the connection but the container's server did not answer.
        return "the connection was closed without an answer (is the server inside the container up?)"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out waiting for an answer"
    return str(exc) or exc.__class__.__name__


def _request_once(host: str, port: int, path: str, timeout: float) -> tuple[int, str, str, float]:
    connect_host = "127.0.0.1" if host in ("0.0.0.0", "localhost") else host
    conn = http.client.HTTPConnection(connect_host, port, timeout=timeout)
    started = time.perf_counter()
    try:
        conn.request("GET", path, headers={"User-Agent": "tutor-probe", "Connection": "close"})
        response = conn.getresponse()
        body = response.read(MAX_BODY)
        latency = (time.perf_counter() - started) * 1000.0
        charset = response.headers.get_content_charset() or "utf-8"
        return response.status, response.reason, body.decode(charset, "replace"), latency
    finally:
        conn.close()


def probe(
    port: int,
    path: str = "/",
    host: str = "127.0.0.1",
    timeout: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
) -> ProbeResult:
    """GET ``path`` on ``host:port``; retry until an answer or ``timeout`` seconds have passed.

    Any HTTP answer ends the retries (a 404 is an answer); only "no answer
    yet" is retried.
    """
    if not path.startswith("/"):
        path = "/" + path
    url = probe_url(port, path, host)
    cli = f"curl {url}"
    deadline = clock() + timeout
    attempts = 0
    while True:
        attempts += 1
        remaining = max(deadline - clock(), 0.05)
        try:
            status, reason, body, latency = _request_once(host, port, path, remaining)
        except (OSError, http.client.HTTPException) as exc:
            error = _why(exc, host, port)
            if clock() + RETRY_PAUSE >= deadline:
                return ProbeResult(False, url, error=error, attempts=attempts, cli=cli)
            time.sleep(RETRY_PAUSE)
            continue
        return ProbeResult(
            ok=200 <= status < 400,
            url=url,
            status=status,
            reason=reason,
            body=body,
            latency_ms=round(latency, 1),
            attempts=attempts,
            cli=cli,
        )


def wait_ready(
    host_port: int,
    timeout: float = 10.0,
    host: str = "127.0.0.1",
    path: str = "/",
    still_running: Callable[[], bool] | None = None,
) -> bool:
    """Wait until an HTTP server answers on ``host_port`` (any status); False on timeout.

    A TCP connect is not enough: the engine's port proxy accepts connections
    before the server in the container listens.  ``still_running`` lets the
    wait end early when the container has exited.
    """
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        if probe(host_port, path, host, timeout=min(0.5, remaining)).status is not None:
            return True
        if still_running is not None and not still_running():
            return False


def explain_unpublished(container: ContainerInfo, exposed_ports: Iterable[int] | None = None) -> str:
    """The "forgot -p" moment: why localhost:PORT does not reach a container that runs fine.

    ``exposed_ports`` are the image's ExposedPorts (from EXPOSE); by default the
    ones the container reports.
    """
    exposed = sorted(set(exposed_ports if exposed_ports is not None else container.exposed))
    published = {p.container_port for p in container.ports}
    unpublished = [p for p in exposed if p not in published]
    port = unpublished[0] if unpublished else (exposed[0] if exposed else 8080)
    image = container.image
    lines = []
    if unpublished:
        which = ", ".join(str(p) for p in unpublished)
        lines.append(
            f"The container {container.name} is running, but its port {which} is not published: "
            f"nothing on this machine forwards localhost:{port} into it, so the request fails."
        )
        lines.append(
            f"EXPOSE {port} in the Dockerfile only documents the port the app listens on "
            "(it is stored in the image's config as ExposedPorts); it does not open it to the host."
        )
    else:
        lines.append(
            f"The container {container.name} publishes no port, so no request from this machine reaches it."
        )
        lines.append(
            "The image has no EXPOSE to name its port (EXPOSE would only document it anyway); "
            f"publish the port the app listens on, e.g. {port}."
        )
    lines.append(
        f"-p HOST:CONTAINER publishes it: `docker run -d -p {port}:{port} {image}` "
        f"(or `tutor run {image} -p {port}:{port}`), then `curl http://localhost:{port}/`."
    )
    return "\n".join(lines)
