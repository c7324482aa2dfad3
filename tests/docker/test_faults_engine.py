"""The engine goes wrong: stopped before launch, killed in the middle of a build, DOCKER_HOST
pointing at nothing, a socket the user may not open.  Each gives a clear message and a fix,
never a traceback; the TUI stays usable and builds again once the engine is back.

Tests that stop or kill an engine use their own private engine (tests/second_engine.py);
the main engine is only ever read here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from tests.conftest import FIXTURES, ROOT, TEST_SEAT
from tests.second_engine import SecondEngine, free_tcp_port, second_engine
from tests.ui.conftest import wait_for
from tutor.engine.baseimages import COURSE_BASE_IMAGES
from tutor.engine.client import DEFAULT_SOCKET
from tutor.ui.app import TutorApp
from tutor.ui.backend import EngineBackend
from tutor.ui.screens.course_map import CourseMapScreen
from tutor.ui.screens.engine_problem import EngineProblemScreen
from tutor.ui.screens.help import HelpScreen
from tutor.ui.screens.lesson import LessonScreen
from tutor.ui.widgets.build_log import BuildLog
from tutor.ui.widgets.engine_status import EngineStatus

UI_COURSE = FIXTURES / "courses" / "ui"
EXIT_FAILED, EXIT_NO_ENGINE = 1, 2


# -- helpers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Runtime:
    """A Python and a copy of the tutor that another user can read: the checkout may lie in a
    folder only its owner can enter (a clone under `mktemp -d`)."""

    python: str
    root: Path  # holds tutor/, lessons/, go_app/ (the shipped files, found beside the package)
    site: Path  # the project's dependencies

    def env(self, env: dict[str, str]) -> dict[str, str]:
        return {**env, "PYTHONPATH": f"{self.root}{os.pathsep}{self.site}", "PYTHONNOUSERSITE": "1"}


def _readable_copy(src: Path, dest: Path) -> None:
    def link_or_copy(a: str, b: str) -> None:
        try:
            os.link(a, b)  # same file system: instant; the file's own mode stays (readable by all)
        except OSError:
            shutil.copy2(a, b)

    shutil.copytree(
        src,
        dest,
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "_editable_impl_*", "__editable__*"),
        copy_function=link_or_copy,
    )


def _tutor(
    *args: str,
    env: dict[str, str] | None = None,
    user: str | None = None,
    runtime: Runtime | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`tutor ARGS` as a learner runs it; as another user with ``user`` (from ``runtime``)."""
    python, cwd = (runtime.python, runtime.root) if runtime else (sys.executable, ROOT)
    if runtime is not None:
        env = runtime.env(env if env is not None else dict(os.environ))
    command = [python, "-m", "tutor", *args]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", "--regid=nogroup", "--clear-groups", *command]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    env.update(TUTOR_HOME=str(home), TUTOR_SEAT=TEST_SEAT, HOME=str(home), NO_COLOR="1")
    env.update(extra)
    return env


def _no_traceback(result: subprocess.CompletedProcess[str]) -> str:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert "unexpected error" not in output, output
    return output


class Terminal:
    """The real `tutor` in tmux.  After it quits, the shell prints its exit code and waits,
    so whatever the process printed on leaving (a traceback, say) stays on the screen."""

    def __init__(
        self,
        env: dict[str, str],
        args: tuple[str, ...] = (),
        user: str | None = None,
        runtime: Runtime | None = None,
    ) -> None:
        self.name = f"tutor-faults-{os.getpid()}-{time.monotonic_ns() % 1_000_000}"
        prefix = f"setpriv --reuid={user} --regid=nogroup --clear-groups " if user else ""
        python, cwd = (runtime.python, runtime.root) if runtime else (sys.executable, ROOT)
        env = runtime.env(env) if runtime else env
        exports = " ".join(
            f"{k}={v}"
            for k, v in env.items()
            if k in ("TUTOR_HOME", "TUTOR_SEAT", "HOME", "DOCKER_HOST", "PYTHONPATH", "PYTHONNOUSERSITE")
        )
        command = (
            f"cd {cwd} && env {exports} TERM=xterm-256color {prefix}{python} -m tutor {' '.join(args)};"
            " echo EXIT=$?; sleep 120"
        )
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", "140", "-y", "40", command], check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True).stdout

    def wait_for(self, predicate: Callable[[str], bool], timeout: float, what: str) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if predicate(text):
                return text
            time.sleep(0.2)
        raise AssertionError(f"{what} did not show within {timeout:.0f}s; the screen was:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def quit(self, timeout: float = 20) -> tuple[int, str]:
        """Press ctrl+q: the exit code, and what the terminal shows afterwards."""
        self.keys("C-q")
        after = self.wait_for(lambda s: "EXIT=" in s, timeout, "the exit")
        code = int(after.split("EXIT=", 1)[1].split()[0])
        return code, after

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def _restart(engine: SecondEngine) -> None:
    """Start the engine again on the same socket.

    After a SIGKILL its containerd is left as a zombie whose pid is still in the pid file:
    the new dockerd would wait for that dead containerd, so the stale pid file goes first.
    """
    (engine.root / "exec" / "containerd" / "containerd.pid").unlink(missing_ok=True)
    engine.start()


@pytest.fixture(scope="module")
def engine2(engine_api: docker.APIClient, base_images) -> Iterator[SecondEngine]:
    """A private engine holding the course's base images, loaded from the main engine."""
    with second_engine() as engine:
        api = docker.APIClient(base_url=engine.url, version="auto", timeout=300)
        for name in COURSE_BASE_IMAGES:
            api.load_image(engine_api.get_image(name))
        api.close()
        yield engine


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def _app(engine: str | None) -> TutorApp:
    return TutorApp(lessons_dir=UI_COURSE, backend=EngineBackend(engine), engine_check_seconds=0)


def _status(app: TutorApp) -> str:
    return str(app.screen.query_one(EngineStatus).render())


async def _open_first_lesson(pilot) -> LessonScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CourseMapScreen))
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, LessonScreen))
    return pilot.app.screen


async def _tui_shows_problem(engine: str | None, reason: str, fix: str) -> None:
    """The TUI opens, says the engine is not reachable and why; b shows the reason and the fix."""
    app = _app(engine)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.engine_report is not None, timeout=30)
        assert not app.engine_report.engine.reachable
        await wait_for(pilot, lambda: "Engine not reachable" in _status(app))
        assert reason in _status(app)
        screen = await _open_first_lesson(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, EngineProblemScreen), timeout=30)
        assert reason in app.screen.reason and fix in app.screen.fix
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen and not screen.building)
        await pilot.press("1", "question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")


# -- the engine stopped before the tutor starts ---------------------------------------------------


def test_stopped_engine_before_launch(engine2: SecondEngine, home: Path) -> None:
    engine2.stop()
    try:
        socket_path = engine2.url.removeprefix("unix://")
        env = _env(home)
        build = _tutor("--engine", engine2.url, "build", str(ROOT / "go_app"), env=env)
        out = _no_traceback(build)
        assert build.returncode == EXIT_NO_ENGINE, out
        assert f"error: No Docker engine socket at {socket_path}" in build.stdout, out
        assert "fix: Start the Docker engine" in build.stdout, out

        doctor = _tutor("--engine", engine2.url, "doctor", env=env)
        out = _no_traceback(doctor)
        assert doctor.returncode == EXIT_FAILED, out
        assert f"not reachable at {engine2.url}" in doctor.stdout and "fix:" in doctor.stdout, out

        terminal = Terminal(env, ("--engine", engine2.url))
        try:
            shown = terminal.wait_for(lambda s: "Engine not reachable" in s, 30, "the engine problem")
            assert "Meet the app" in shown  # the course itself is there to read
            code, after = terminal.quit()
        finally:
            terminal.close()
        assert code == 0 and "Traceback" not in after, after
    finally:
        _restart(engine2)


async def test_stopped_engine_in_the_tui(engine2: SecondEngine) -> None:
    engine2.stop()
    try:
        await _tui_shows_problem(engine2.url, "No Docker engine socket", "Start the Docker engine")
    finally:
        _restart(engine2)


def test_killed_engine_before_launch_leaves_a_stale_socket(engine2: SecondEngine, home: Path) -> None:
    engine2.kill()
    try:
        assert Path(engine2.url.removeprefix("unix://")).exists()  # what a crash leaves behind
        build = _tutor("--engine", engine2.url, "build", str(ROOT / "go_app"), env=_env(home))
        out = _no_traceback(build)
        assert build.returncode == EXIT_NO_ENGINE, out
        assert "exists but no engine answers" in build.stdout and "fix:" in build.stdout, out
        doctor = _tutor("--engine", engine2.url, "doctor", env=_env(home))
        assert doctor.returncode == EXIT_FAILED and "exists but no engine answers" in _no_traceback(doctor)
    finally:
        _restart(engine2)


# -- the engine killed in the middle of a build ---------------------------------------------------


async def test_engine_killed_mid_build_is_reported_and_the_next_build_works(engine2: SecondEngine) -> None:
    app = _app(engine2.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.engine_report is not None and app.engine_report.engine.reachable, timeout=30)
        screen = await _open_first_lesson(pilot)
        await pilot.press("b")
        # the compile step runs for many seconds: kill the engine under it
        await wait_for(
            pilot,
            lambda: any(s.status == "running" and "go build" in s.instruction for s in screen.record.steps.values()),
            timeout=300,
        )
        killed = time.monotonic()
        engine2.kill()
        await wait_for(pilot, lambda: not screen.building, timeout=30)
        reported = time.monotonic() - killed
        failure = screen.record.failure
        assert failure is not None and failure.engine_lost, failure
        assert reported <= 2.0, f"the lost engine was reported after {reported:.2f}s"
        log = "\n".join(screen.query_one(BuildLog).lines)
        assert "build failed" in log and "fix:" in log, log[-2000:]
        await wait_for(pilot, lambda: any(n.title == "Build failed" for n in app._notifications))
        assert screen.record.steps[7].status == "failed"  # the step that was running is marked
        # The engine's fault, not the learner's: no "Not yet", and no attempt counted.
        await pilot.pause(0.2)
        assert not any(n.title == "Not yet" for n in app._notifications)
        assert app.progress_store.load()[0].exercise(screen.lesson.id, screen.exercise.id).attempts == 0

        # still usable: tabs, help, the course map and back
        await pilot.press("3", "1", "question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape", "m")
        await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen))
        screen = app.screen

        _restart(engine2)
        app.check_engine()
        await wait_for(pilot, lambda: app.engine_report is not None and app.engine_report.engine.reachable, timeout=30)
        before = screen.builds_started
        await pilot.press("b")
        await wait_for(pilot, lambda: screen.builds_started > before and not screen.building, timeout=600)
        assert screen.record.result is not None, screen.record.failure
        assert screen.results and all(r.passed for r in screen.results), screen.results


# -- DOCKER_HOST pointing at nothing ------------------------------------------------------------------


def _nothing_urls() -> list[str]:
    return [
        f"tcp://127.0.0.1:{free_tcp_port()}",
        "unix:///tmp/tutor-no-engine-here/docker.sock",
        "tcp://no-such-engine.invalid:2375",
    ]


@pytest.mark.parametrize("url", _nothing_urls(), ids=["closed-port", "missing-socket", "unknown-host"])
def test_docker_host_pointing_at_nothing(url: str, home: Path) -> None:
    env = _env(home, DOCKER_HOST=url)
    build = _tutor("build", str(ROOT / "go_app"), env=env)
    out = _no_traceback(build)
    assert build.returncode == EXIT_NO_ENGINE, out
    error = next(line for line in build.stdout.splitlines() if line.startswith("error: "))
    assert url.split("://", 1)[1].split(":")[0].split("/")[-1] in error or url in error, error
    assert "fix: " in build.stdout, out
    assert "DOCKER_HOST" in build.stdout, out  # it says where the address came from, and how to undo it

    doctor = _tutor("doctor", env=env)
    out = _no_traceback(doctor)
    assert doctor.returncode == EXIT_FAILED, out
    assert "PROBLEM  engine" in doctor.stdout and "fix:" in doctor.stdout, out


async def test_docker_host_pointing_at_nothing_in_the_tui(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"tcp://127.0.0.1:{free_tcp_port()}"
    monkeypatch.setenv("DOCKER_HOST", url)
    await _tui_shows_problem(None, f"No Docker engine answers at DOCKER_HOST={url}", "unset DOCKER_HOST")


# -- a socket the user may not open -------------------------------------------------------------------


@pytest.fixture
def nobody_home() -> Iterator[Path]:
    """A home and a copy of go_app that the unprivileged user can read and write."""
    if shutil.which("setpriv") is None or os.geteuid() != 0:
        pytest.fail("this test runs as root and needs setpriv (util-linux) to drop to the user nobody")
    path = Path(tempfile.mkdtemp(prefix="tutor-nobody-"))
    path.chmod(0o777)
    shutil.copytree(ROOT / "go_app", path / "go_app")
    for p in path.rglob("*"):
        p.chmod(0o777 if p.is_dir() else 0o666)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def nobody_runtime() -> Iterator[Runtime]:
    """What the user nobody needs to run the tutor, where it may read it.

    The checkout (and its .venv) may lie in a folder only its owner can enter, e.g. a clone under
    `mktemp -d`: nobody gets the interpreter itself (not the venv's link to it), a copy of the
    package and the shipped files, and a copy of the venv's dependencies on PYTHONPATH.
    """
    path = Path(tempfile.mkdtemp(prefix="tutor-nobody-runtime-"))
    try:
        path.chmod(0o755)
        _readable_copy(ROOT / "tutor", path / "src" / "tutor")
        for shipped in ("lessons", "go_app"):
            _readable_copy(ROOT / shipped, path / "src" / shipped)
        site = Path(sysconfig.get_paths()["purelib"])
        _readable_copy(site, path / "site")
        shutil.rmtree(path / "site" / "tutor", ignore_errors=True)  # an installed copy would shadow src
        for p in [path, *path.rglob("*")]:
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)
        yield Runtime(os.path.realpath(sys.executable), path / "src", path / "site")
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_socket_the_user_may_not_open(nobody_home: Path, nobody_runtime: Runtime, engine_api: docker.APIClient) -> None:
    socket_path = Path(DEFAULT_SOCKET)
    mode = socket_path.stat().st_mode & 0o777
    assert not mode & 0o006, f"{socket_path} is open to everyone ({oct(mode)}): nothing to test"
    env = _env(nobody_home, DOCKER_HOST=f"unix://{socket_path}")
    doctor = _tutor("doctor", env=env, user="nobody", runtime=nobody_runtime)
    out = _no_traceback(doctor)
    assert doctor.returncode == EXIT_FAILED, out
    assert f"Permission denied on {socket_path}" in doctor.stdout, out
    assert "usermod -aG docker" in doctor.stdout, out

    build = _tutor("build", str(nobody_home / "go_app"), env=env, user="nobody", runtime=nobody_runtime)
    out = _no_traceback(build)
    assert build.returncode == EXIT_NO_ENGINE, out
    assert f"error: Permission denied on {socket_path}" in build.stdout, out
    assert "fix: Add your user to the docker group" in build.stdout, out

    terminal = Terminal(env, user="nobody", runtime=nobody_runtime)
    try:
        shown = terminal.wait_for(lambda s: "Engine not reachable" in s, 30, "the engine problem")
        assert "Permission denied" in shown
        code, after = terminal.quit()
    finally:
        terminal.close()
    assert code == 0 and "Traceback" not in after, after
