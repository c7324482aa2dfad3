"""Connecting to a Docker engine, and telling apart why it failed.

The low-level ``docker.APIClient`` is used throughout because it streams builds
(``client.images.build`` drains the stream first).  One client per thread: the
SDK's session is not meant to be shared between threads.
"""

from __future__ import annotations

import errno
import importlib.util
import os
import threading
from dataclasses import dataclass

import docker
from docker.errors import DockerException

from tutor.fmt import engine_label

DEFAULT_SOCKET = "/var/run/docker.sock"
_local = threading.local()


@dataclass(frozen=True)
class EngineProblem:
    """Why no engine could be reached, and what to do about it."""

    kind: str  # socket-missing | permission | refused | host-unreachable | ssh-support | error
    url: str
    reason: str
    fix: str


class EngineUnavailable(Exception):
    def __init__(self, problem: EngineProblem) -> None:
        super().__init__(problem.reason)
        self.problem = problem


def _context_host() -> str | None:
    """The host of the active docker CLI context, when it is not the default one."""
    try:
        from docker.context import ContextAPI

        ctx = ContextAPI.get_current_context()
    except Exception:  # a damaged ~/.docker/config.json must not stop the tutor
        return None
    if ctx is None or ctx.name == "default":
        return None
    return ctx.Host or None


def engine_url(explicit: str | None = None) -> str:
    """Which engine to talk to: ``--engine``, then DOCKER_HOST, then the active context."""
    return explicit or os.environ.get("DOCKER_HOST") or _context_host() or f"unix://{DEFAULT_SOCKET}"


def _socket_path(url: str) -> str | None:
    if url.startswith("unix://"):
        return url[len("unix://") :] or DEFAULT_SOCKET
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen:
        seen.append(cur)
        nxt = cur.__cause__ or cur.__context__
        if nxt is None and cur.args and isinstance(cur.args[0], BaseException):
            nxt = cur.args[0]
        # urllib3 hides the OSError in `.reason`
        if nxt is None and isinstance(getattr(cur, "reason", None), BaseException):
            nxt = cur.reason
        cur = nxt
    return seen


def diagnose(url: str, exc: BaseException | None = None) -> EngineProblem:
    """Turn a failed connection into a reason and a fix a learner can act on."""
    from_env = "DOCKER_HOST" in os.environ and os.environ["DOCKER_HOST"] == url
    sock = _socket_path(url)
    start_fix = (
        "Start the Docker engine: `sudo systemctl start docker` "
        "(or `sudo dockerd > /var/log/dockerd.log 2>&1 &` where there is no init system), "
        "then run `tutor doctor`."
    )
    if url.startswith("ssh://") and importlib.util.find_spec("paramiko") is None:
        # The SDK says so in a message run together with a NameError; say it once, with the fix.
        return EngineProblem(
            "ssh-support",
            url,
            f"Cannot reach {url}: ssh:// engines need the paramiko package, which is not installed.",
            "Install it where the tutor runs: `pip install paramiko` (or `pip install 'docker[ssh]'`), "
            "then run `tutor doctor`.",
        )
    if sock is not None:
        if not os.path.exists(sock):
            # A DOCKER_HOST left over from another setup is as likely as a stopped engine.
            named, unset = (" (DOCKER_HOST)", " Or unset DOCKER_HOST to use the local engine.") if from_env else ("", "")
            return EngineProblem(
                "socket-missing",
                url,
                f"No Docker engine socket at {sock}{named}: the engine is not running.",
                start_fix + unset,
            )
        if not os.access(sock, os.R_OK | os.W_OK):
            return EngineProblem(
                "permission",
                url,
                f"Permission denied on {sock}: your user may not talk to the Docker engine.",
                "Add your user to the docker group: `sudo usermod -aG docker $USER`, "
                "then log out and in again (or run the tutor as a user who may use Docker).",
            )
    errnos = {getattr(e, "errno", None) for e in _chain(exc)} if exc else set()
    text = " ".join(str(e) for e in _chain(exc)) if exc else ""
    if errno.EACCES in errnos or "Permission denied" in text:
        return EngineProblem(
            "permission",
            url,
            f"Permission denied when connecting to {url}.",
            "Add your user to the docker group: `sudo usermod -aG docker $USER`, then log in again.",
        )
    if sock is not None:
        return EngineProblem(
            "refused",
            url,
            f"The socket {sock} exists but no engine answers on it (a stale socket from a stopped engine?).",
            start_fix,
        )
    where = f"DOCKER_HOST={url}" if from_env else url
    unset = " or unset DOCKER_HOST to use the local engine" if from_env else ""
    if errno.ECONNREFUSED in errnos or "refused" in text.lower():
        why = "connection refused"
    elif "Name or service not known" in text or "nodename nor servname" in text or "resolve" in text.lower():
        why = "the host name does not resolve"
    elif "timed out" in text.lower():
        why = "the connection timed out"
    else:
        why = (text.splitlines() or ["no answer"])[0][:200] or "no answer"
    return EngineProblem(
        "host-unreachable",
        url,
        f"No Docker engine answers at {where} ({why}).",
        f"Check that the engine at {url} is running and reachable{unset}; `tutor doctor` tells more.",
    )


def new_client(
    url: str, version: str = "auto", timeout: int | None = 60, cls: type[docker.APIClient] = docker.APIClient
) -> docker.APIClient:
    """A low-level client for ``url``; TLS settings come from the environment as for the CLI."""
    kwargs = {}
    if url == os.environ.get("DOCKER_HOST"):
        kwargs = docker.utils.kwargs_from_env()
        kwargs.pop("base_url", None)
    return cls(base_url=url, version=version, timeout=timeout, **kwargs)


def connect(url: str | None = None, timeout: int = 60) -> docker.APIClient:
    """A fresh, pinged low-level client, or EngineUnavailable with the reason and fix."""
    target = engine_url(url)
    try:
        api = new_client(target, timeout=timeout)
        api.ping()
    except (DockerException, OSError, Exception) as exc:  # noqa: BLE001 - every failure is classified
        raise EngineUnavailable(diagnose(target, exc)) from exc
    return api


def thread_client(url: str | None = None) -> docker.APIClient:
    """This thread's client for ``url``, created on first use and kept warm."""
    target = engine_url(url)
    clients: dict[str, docker.APIClient] = _local.__dict__.setdefault("clients", {})
    api = clients.get(target)
    if api is None:
        api = connect(target)
        clients[target] = api
    return api


def forget_thread_client(url: str | None = None) -> None:
    """Drop this thread's client (after the engine went away) so the next call reconnects."""
    clients: dict[str, docker.APIClient] = _local.__dict__.setdefault("clients", {})
    api = clients.pop(engine_url(url), None)
    if api is not None:
        try:
            api.close()
        except Exception:
            pass


def describe_url(url: str) -> str:
    """A short label for the status line."""
    return engine_label(url)
