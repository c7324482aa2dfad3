"""BuildKit through the docker CLI: ``docker buildx build --progress=rawjson`` as a subprocess.

What the learner's own `docker build` runs.  buildx prints its progress as JSON objects on
stderr (one after another, indented), then ``ERROR: ...`` lines when the build fails; the image
id comes from ``--metadata-file``.  With the default ``docker`` driver ``--load`` puts the image
in the engine's image store, labelled with ``--label``.  Cancelling interrupts buildx (then
kills it): the engine sees its session end and stops the build's processes.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from tutor.engine.buildkit.backend import BuildKitBuild
from tutor.engine.buildkit.parser import RawJsonParser
from tutor.engine.context import context_files
from tutor.engine.events import ContextSent

STOP_GRACE = 3.0  # seconds buildx gets to cancel cleanly before it is killed
METADATA_PREFIX = "tutor-buildx-"
STALE_METADATA = 3600.0  # seconds: a metadata file this old was left by a process that died mid-build


def _sweep_metadata_files(now: float | None = None) -> int:
    """Remove the metadata files of builds whose process died before removing its own (killed,
    or its machine stopped); buildx writes the file whole when a build ends, so even a build
    that runs longer than this loses nothing. Returns how many went."""
    folder = Path(tempfile.gettempdir())
    now = time.time() if now is None else now
    removed = 0
    for path in folder.glob(f"{METADATA_PREFIX}*.json"):
        try:
            if now - path.lstat().st_mtime > STALE_METADATA and path.is_file() and not path.is_symlink():
                path.unlink()
                removed += 1
        except OSError:
            continue  # another process removed it first, or it is not ours to remove
    return removed


def command(request, context: Path, dockerfile: Path, metadata_file: str, docker: str = "docker") -> list[str]:
    """The docker CLI line of this build."""
    argv = [docker, "buildx", "build", "--progress=rawjson", "--load", "--metadata-file", metadata_file]
    argv += ["-f", str(dockerfile)]
    if request.tag:
        argv += ["-t", request.tag]
    for key, value in dict(request.labels).items():
        argv += ["--label", f"{key}={value}"]
    if request.nocache:
        argv.append("--no-cache")
    if request.target:
        argv += ["--target", request.target]
    argv.append(str(context))
    return argv


def read_stderr(stream, put) -> None:
    """Split buildx's stderr into JSON objects and text lines, handing each to ``put``."""
    buffer: list[str] = []
    for line in iter(stream.readline, ""):
        if not buffer and not line.startswith("{"):
            if line.strip():
                put({"kind": "text", "line": line.rstrip("\n")})
            continue
        buffer.append(line)
        if line.rstrip() == "}":  # the closing brace of an indented object is alone on its line
            text = "".join(buffer)
            try:
                obj = json.loads(text)
            except ValueError:
                continue  # a brace inside the object: keep reading
            buffer = []
            put(obj)
    if buffer:
        put({"kind": "text", "line": "".join(buffer).strip()})


class BuildxBuild(BuildKitBuild):
    via = "buildx"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def _parser(self) -> RawJsonParser:
        return RawJsonParser(dockerfile=self.dockerfile_text, target=self.request.target)

    def _stream(self, context: Path, dockerfile: Path, out: queue.Queue) -> None:
        files = context_files(context, dockerfile.name if dockerfile.parent == context else "Dockerfile")
        size = 0
        for rel in files:
            try:
                size += (context / rel).lstat().st_size
            except OSError:
                continue
        out.put(("event", ContextSent(len(files), size)))
        _sweep_metadata_files()
        fd, metadata_file = tempfile.mkstemp(prefix=METADATA_PREFIX, suffix=".json")
        os.close(fd)
        env = dict(os.environ)
        if self.request.engine:
            env["DOCKER_HOST"] = self.request.engine
        env.pop("BUILDX_BUILDER", None)  # the engine's own builder, as `docker build` uses
        from tutor.engine.builders import docker_cli

        try:
            with self._lock:
                if self.cancelled:
                    return
                self._process = subprocess.Popen(
                    command(self.request, context, dockerfile, metadata_file, docker_cli() or "docker"),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                    encoding="utf-8",
                    errors="replace",
                    env=env,
                    start_new_session=True,  # a Ctrl+C reaches the tutor, which cancels
                )
            process = self._process
            assert process.stderr is not None
            read_stderr(process.stderr, lambda obj: out.put(("chunk", obj)))
            code = process.wait()
            try:
                text = Path(metadata_file).read_text(encoding="utf-8")
                metadata = json.loads(text) if text.strip() else {}
            except (OSError, ValueError):
                metadata = {}
            if code == 0 and metadata:
                out.put(("chunk", {"kind": "metadata", "metadata": metadata}))
            out.put(("chunk", {"kind": "exit", "code": code}))
        finally:
            try:
                os.unlink(metadata_file)
            except OSError:
                pass

    def _stop(self) -> None:
        with self._lock:
            process = self._process
        if process is None or process.poll() is not None:
            return
        if not self.cancelled:  # the build ended on its own, or the consumer left: just reap it
            threading.Thread(target=_interrupt_then_kill, args=(process,), daemon=True).start()
            return
        _interrupt_then_kill(process)


def _interrupt_then_kill(process: subprocess.Popen) -> None:
    try:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    except OSError:
        pass
