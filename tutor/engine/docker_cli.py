"""Run one docker CLI command against a given engine and stream its output as events.

The docker prompt's runner: ``DockerCommand(argv, env=..., cwd=...).events()`` yields each
``OutputLine`` as the CLI prints it (stdout and stderr, in arrival order), then one
``CommandEnded``; a CLI that cannot start yields ``CommandNotStarted`` with the fix. The engine
is the caller's: ``command_env`` sets ``DOCKER_HOST`` in the ``env=`` given to the process, never
in this process's environment. There is no terminal: stdin is closed, so the CLI prints its plain
output (BuildKit's plain progress, no colours, no "What's next" hints).

``cancel()`` (from any thread) sends SIGINT to the command's process group, as Ctrl+C in a
terminal would (a build is cancelled, ``docker logs -f`` stops), then kills the group when it has
not ended after ``KILL_AFTER`` seconds. A timeout (for commands that should answer at once) does
the same and says so.

``EngineOwners`` answers the prompt's rules: which seat an image or a container belongs to.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from docker.errors import DockerException

from tutor.engine import labels as tl
from tutor.engine.client import EngineUnavailable

KILL_AFTER = 3.0  # seconds between SIGINT and SIGKILL when cancelling
INSTALL_FIX = (
    "install the Docker CLI where the tutor runs (Debian/Ubuntu: `sudo apt-get install docker-ce-cli` "
    "or `docker.io`; elsewhere https://docs.docker.com/engine/install/), then open the prompt again"
)


@dataclass(frozen=True)
class OutputLine:
    text: str
    stream: str  # "stdout" | "stderr"


@dataclass(frozen=True)
class CommandEnded:
    exit_code: int
    seconds: float
    cancelled: bool = False
    timed_out: bool = False


@dataclass(frozen=True)
class CommandNotStarted:
    reason: str
    fix: str


CommandEvent = OutputLine | CommandEnded | CommandNotStarted


def command_env(base: Mapping[str, str], engine_url: str | None) -> dict[str, str]:
    """The environment for a docker CLI talking to ``engine_url`` (else what ``base`` picks)."""
    env = dict(base)
    if engine_url:
        env["DOCKER_HOST"] = engine_url
        env.pop("DOCKER_CONTEXT", None)  # a context would name another engine than DOCKER_HOST
    env["BUILDKIT_PROGRESS"] = "plain"  # what a build prints without a terminal, said so up front
    env["DOCKER_CLI_HINTS"] = "false"  # no "What's next:" advertising after a command
    env["NO_COLOR"] = "1"
    return env


class DockerCommand:
    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | str,
        timeout: float | None = None,
    ) -> None:
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = Path(cwd)
        self.timeout = timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._cancelled = threading.Event()
        self._lock = threading.Lock()

    def events(self) -> Iterator[CommandEvent]:
        program = shutil.which(self.argv[0], path=self.env.get("PATH", os.defpath))
        if program is None:
            yield CommandNotStarted(f"the `{self.argv[0]}` command is not installed here", INSTALL_FIX)
            return
        started = time.monotonic()
        lines: queue.Queue[OutputLine | None] = queue.Queue()
        try:
            with self._lock:
                if self._cancelled.is_set():
                    yield CommandEnded(130, 0.0, cancelled=True)
                    return
                self._process = subprocess.Popen(
                    [program, *self.argv[1:]],
                    cwd=self.cwd,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    start_new_session=True,  # its own process group: cancel reaches the CLI and its helpers
                )
        except OSError as exc:
            yield CommandNotStarted(f"`{self.argv[0]}` could not start: {exc.strerror or exc}", INSTALL_FIX)
            return
        process = self._process
        readers = [
            threading.Thread(target=_read, args=(process.stdout, "stdout", lines), daemon=True),
            threading.Thread(target=_read, args=(process.stderr, "stderr", lines), daemon=True),
        ]
        for reader in readers:
            reader.start()
        open_streams = len(readers)
        timed_out = False
        try:
            while open_streams:
                try:
                    item = lines.get(timeout=0.2)
                except queue.Empty:
                    if self.timeout is not None and not timed_out and time.monotonic() - started > self.timeout:
                        timed_out = True
                        self._stop(process)
                    continue
                if item is None:
                    open_streams -= 1
                    continue
                yield item
            code = process.wait()
        finally:
            if process.poll() is None:  # the consumer stopped iterating: leave nothing running
                self._stop(process)
                process.wait()
        yield CommandEnded(code, time.monotonic() - started, cancelled=self._cancelled.is_set(), timed_out=timed_out)

    def cancel(self) -> None:
        """Stop the command as Ctrl+C would, then kill it; from any thread, at any time."""
        with self._lock:
            self._cancelled.set()
            process = self._process
        if process is not None and process.poll() is None:
            self._stop(process)

    @staticmethod
    def _stop(process: subprocess.Popen[bytes]) -> None:
        def signal_group(sig: int) -> None:
            try:
                os.killpg(process.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass

        signal_group(signal.SIGINT)

        def kill_later() -> None:
            try:
                process.wait(KILL_AFTER)
            except subprocess.TimeoutExpired:
                signal_group(signal.SIGKILL)

        threading.Thread(target=kill_later, daemon=True).start()


def _read(pipe, stream: str, out: queue.Queue[OutputLine | None]) -> None:
    """Lines of one pipe as they come; a line the CLI redraws with carriage returns shows its last form."""
    try:
        for raw in iter(pipe.readline, b""):
            text = raw.decode("utf-8", "replace").rstrip("\n").rstrip("\r")
            out.put(OutputLine(text.rsplit("\r", 1)[-1], stream))
    finally:
        pipe.close()
        out.put(None)


# No such object, no engine, a name the engine cannot read: the command itself says which.
_LOOKUP_ERRORS = (DockerException, EngineUnavailable, OSError, ValueError)


class EngineOwners:
    """Who owns an image or a container on the engine: its ``io.tutor.seat`` label (or a
    ``tutor/<seat>/`` tag), ``""`` when it has none, None when there is no such object."""

    def __init__(self, engine: str | None) -> None:
        self.engine = engine

    def _api(self):
        from tutor.engine.client import thread_client

        return thread_client(self.engine)  # one warm client per thread: the prompt's worker asks

    def image_seat(self, ref: str) -> str | None:
        try:
            data = self._api().inspect_image(ref)
        except _LOOKUP_ERRORS:
            return None
        owner = ((data.get("Config") or {}).get("Labels") or {}).get(tl.SEAT)
        if owner:
            return str(owner)
        for tag in data.get("RepoTags") or ():
            parts = str(tag).split("/")
            if len(parts) >= 3 and parts[0] == "tutor":
                return parts[1]
        return ""

    def container_seat(self, ref: str) -> str | None:
        try:
            data = self._api().inspect_container(ref)
        except _LOOKUP_ERRORS:
            return None
        return str(((data.get("Config") or {}).get("Labels") or {}).get(tl.SEAT) or "")
