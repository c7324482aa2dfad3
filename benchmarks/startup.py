"""Start-up: from starting `tutor` to the course map answering a key, in a real terminal.

`python -m tutor` runs under a pseudo-terminal (120x40) with a fresh TUTOR_HOME.
The output is read as it comes: the moment the course map's first frame has been
written is noted; then ``?`` is sent and the moment the help screen appears is the
moment the course map has handled a key.  Nothing in the app is changed for this.

The package's bytecode is compiled first, as ``pip install`` does: a learner's
installed tutor starts from it, while a checkout run with PYTHONDONTWRITEBYTECODE
(or never imported yet) would compile every module of ``tutor`` on each start.

Also: ``python -X importtime -c 'import tutor.ui.app'``, summed per top-level package.
"""

from __future__ import annotations

import compileall
import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
MAP_MARK = "Meet the app"  # the first lesson's title on the course map
HELP_MARK = "does"  # the heading of the help screen's key table


@dataclass(frozen=True)
class StartupRun:
    first_frame: float  # seconds from start to the course map's first frame
    key_handled: float  # seconds from start to the help screen shown after `?`


def _set_size(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _read_until(fd: int, text: list[str], mark: str, deadline: float) -> float:
    """Read the terminal until ``mark`` shows in the text written so far; when it showed."""
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # the app exited
            break
        now = time.perf_counter()
        text.append(ANSI.sub("", data.decode("utf-8", "replace")))
        if mark in "".join(text[-50:]):
            return now
    raise TimeoutError(f"{mark!r} did not show; the terminal showed: {''.join(text)[-500:]!r}")


def run_once(timeout: float = 60.0) -> StartupRun:
    with tempfile.TemporaryDirectory(prefix="tutor-bench-start-") as home:
        env = dict(os.environ, TUTOR_HOME=home, TERM="xterm-256color", COLUMNS="120", LINES="40")
        env.pop("TEXTUAL", None)
        started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:  # the child: the tutor, as a learner starts it
            _set_size(0, 40, 120)
            os.chdir(home)
            os.execve(sys.executable, [sys.executable, "-m", "tutor"], env)
        try:
            text: list[str] = []
            shown = _read_until(fd, text, MAP_MARK, started + timeout)
            text.clear()
            os.write(fd, b"?")
            helped = _read_until(fd, text, HELP_MARK, started + timeout)
            os.write(fd, b"\x11")  # ctrl+q
            deadline = time.perf_counter() + 10
            while time.perf_counter() < deadline:
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                try:
                    select.select([fd], [], [], 0.05) and os.read(fd, 65536)
                except OSError:
                    pass
            else:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        except BaseException:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise
        finally:
            os.close(fd)
        return StartupRun(shown - started, helped - started)


def measure(runs: int = 5) -> dict:
    compileall.compile_dir(ROOT / "tutor", quiet=1)
    results = [run_once() for _ in range(runs)]
    first = [r.first_frame for r in results]
    keys = [r.key_handled for r in results]
    return {
        "runs": runs,
        "first_frame_median_s": round(statistics.median(first), 3),
        "key_handled_median_s": round(statistics.median(keys), 3),
        "key_handled_max_s": round(max(keys), 3),
        "first_frame_s": [round(x, 3) for x in first],
        "key_handled_s": [round(x, 3) for x in keys],
    }


def import_times(runs: int = 3, top: int = 8) -> dict:
    """`-X importtime` of tutor.ui.app: the total, and the time spent in each top-level package."""
    best: dict | None = None
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import tutor.ui.app"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        own: dict[str, int] = defaultdict(int)
        modules: dict[str, int] = {}
        total = 0
        for line in result.stderr.splitlines():
            if not line.startswith("import time:") or "|" not in line:
                continue
            first, cumulative, name = line.split("|", 2)  # "import time: SELF | CUMULATIVE |   name"
            self_us, cumulative, name = first.split(":", 1)[1].strip(), cumulative.strip(), name.strip()
            if not self_us.isdigit():
                continue  # the heading
            own[name.split(".")[0]] += int(self_us)
            modules[name] = int(self_us)
            if name == "tutor.ui.app":
                total = int(cumulative)
        if best is None or total < best["total_us"]:
            best = {"total_us": total, "packages": dict(own), "modules": modules}
    assert best is not None
    ranked = sorted(best["packages"].items(), key=lambda kv: -kv[1])[:top]
    return {
        "total_ms": round(best["total_us"] / 1000, 1),
        "by_package_ms": {name: round(us / 1000, 1) for name, us in ranked},
        "heaviest_modules_ms": {
            name: round(us / 1000, 1) for name, us in sorted(best["modules"].items(), key=lambda kv: -kv[1])[:top]
        },
    }


if __name__ == "__main__":
    import json

    print(json.dumps({"startup": measure(3), "imports": import_times(1)}, indent=2))
