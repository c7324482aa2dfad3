"""A second, private Docker engine for tests that must stop, kill or load into an engine.

It never touches the main engine: its own data root, exec root, socket and
bridge.  Never start it with ``--bridge=none``: dockerd then deletes the
host's default ``docker0`` bridge, which breaks every build of the main engine.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import docker


@dataclass
class SecondEngine:
    root: Path
    url: str
    bridge: str
    containerd_store: bool = False
    process: subprocess.Popen | None = None

    @property
    def log(self) -> str:
        path = self.root / "dockerd.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, timeout: float = 60) -> None:
        # After a SIGKILL the dead containerd's pid file stays behind and blocks a restart.
        (self.root / "exec" / "containerd" / "containerd.pid").unlink(missing_ok=True)
        args = [
            "dockerd",
            f"--data-root={self.root / 'data'}",
            f"--exec-root={self.root / 'exec'}",
            f"--pidfile={self.root / 'dockerd.pid'}",
            f"--host={self.url}",
            f"--bridge={self.bridge}",
            "--iptables=false",
            "--ip-masq=false",
        ]
        if self.containerd_store:
            # What Docker Desktop (4.34+) and new Engine 29 installs use: images live in containerd.
            config = self.root / "daemon.json"
            config.write_text(json.dumps({"features": {"containerd-snapshotter": True}}))
            args.append(f"--config-file={config}")
        log = open(self.root / "dockerd.log", "ab")
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the second engine exited:\n{self.log[-2000:]}")
            try:
                docker.APIClient(base_url=self.url, version="auto", timeout=5).ping()
                return
            except Exception:
                time.sleep(0.3)
        raise RuntimeError(f"the second engine did not answer within {timeout}s:\n{self.log[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: the engine dies mid-whatever, as in a crash."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        # containerd-shims of a killed engine may linger: end them too.
        subprocess.run(["pkill", "-f", str(self.root / "exec")], capture_output=True)
        # dockerd bind-mounts its data root (and overlay layers) onto itself: undo it before removal.
        mounts = subprocess.run(["findmnt", "-rn", "-o", "TARGET"], capture_output=True, text=True).stdout.split()
        for target in sorted((m for m in mounts if m.startswith(str(self.root))), key=len, reverse=True):
            subprocess.run(["umount", "-l", target], capture_output=True)


_engines = itertools.count()


def _free_subnet() -> str:
    used = subprocess.run(["ip", "-4", "addr"], capture_output=True, text=True).stdout
    for third in range(200, 250):
        if f"172.30.{third}." not in used:
            return f"172.30.{third}.1/24"
    raise RuntimeError("no free 172.30.x.0/24 subnet for the second engine's bridge")


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def second_engine(tcp: bool = False, containerd_store: bool = False) -> Iterator[SecondEngine]:
    """A started private engine (unix socket, or loopback TCP with ``tcp=True``; the containerd
    image store with ``containerd_store=True``); removed after."""
    if shutil.which("dockerd") is None:
        raise RuntimeError("dockerd is not installed")
    root = Path(tempfile.mkdtemp(prefix="tutor-engine-"))
    bridge = f"tbr{os.getpid() % 100000}x{next(_engines)}"  # at most 15 characters
    subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True, capture_output=True)
    subprocess.run(["ip", "addr", "add", _free_subnet(), "dev", bridge], check=True, capture_output=True)
    subprocess.run(["ip", "link", "set", bridge, "up"], check=True, capture_output=True)
    url = f"tcp://127.0.0.1:{free_tcp_port()}" if tcp else f"unix://{root / 'docker.sock'}"
    engine = SecondEngine(root, url, bridge, containerd_store)
    try:
        engine.start()
        yield engine
    finally:
        engine.stop()
        subprocess.run(["ip", "link", "del", bridge], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
