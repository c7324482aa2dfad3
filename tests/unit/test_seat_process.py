"""A kiosk or a browser seat serves its seat in a process started with that seat's environment:
its own process's environment is never changed."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tutor.commands import kiosk as kiosk_command
from tutor.seat import ENV_PORTS, ENV_RULES, ENV_SEAT, Seat
from tutor.workshop import browser_seat, seat_process
from tutor.workshop.config import KioskConfig, hash_pin


class _Child:
    """Stands in for subprocess.Popen: records what would be started."""

    started: list[tuple[list[str], dict[str, str]]] = []

    def __init__(self, argv, env=None) -> None:
        _Child.started.append((list(argv), dict(env or {})))

    def wait(self) -> int:
        return 7


@pytest.fixture
def child(monkeypatch: pytest.MonkeyPatch) -> type[_Child]:
    _Child.started = []
    monkeypatch.setattr(seat_process.subprocess, "Popen", _Child)
    return _Child


@pytest.fixture
def config(tmp_path: Path) -> KioskConfig:
    return KioskConfig(seat="room-3", pin_hash=hash_pin("2468"), export_dir=tmp_path / "exports", port_range=(18300, 18310))


def test_a_seat_s_environment_gives_the_seat_back(tmp_path: Path) -> None:
    seat = Seat("room-3", workshop=True, port_range=(18300, 18310), engine="unix:///x.sock", home=tmp_path)
    env = seat.environment({"PATH": "/bin", ENV_PORTS: "1-2"})
    assert env["PATH"] == "/bin" and env[ENV_SEAT] == "room-3" and env[ENV_RULES] == "kiosk"
    assert Seat.from_environment("unix:///x.sock", env) == seat
    assert seat.progress_file == tmp_path / "data" / "seats" / "room-3" / "progress.json"
    assert ENV_PORTS not in Seat("local").environment({ENV_PORTS: "1-2", ENV_RULES: "kiosk"})


def test_the_kiosk_serves_its_seat_in_a_child_and_leaves_os_environ_alone(child, config, tmp_path) -> None:
    before = dict(os.environ)
    code = kiosk_command.run_kiosk(config, None, tmp_path / "kiosk.toml")
    assert code == 7 and dict(os.environ) == before
    [(argv, env)] = child.started
    assert argv[:3] == [sys.executable, "-m", "tutor"]
    assert argv[-5:] == ["kiosk", "--config", str((tmp_path / "kiosk.toml").resolve()), "--seat", "room-3"]
    assert (env[ENV_SEAT], env[ENV_RULES], env[ENV_PORTS]) == ("room-3", "kiosk", "18300-18310")
    assert env["TUTOR_HOME"] == os.environ["TUTOR_HOME"]  # the same home: only the seat changes


def test_in_its_seat_s_process_the_kiosk_app_is_handed_the_seat(child, config, monkeypatch) -> None:
    for name, value in Seat("room-3", True, (18300, 18310)).environment({}).items():
        monkeypatch.setenv(name, value)
    made: dict[str, object] = {}

    class FakeKiosk:
        return_code = 0

        def __init__(self, config, lessons_dir=None, backend=None, seat=None) -> None:
            made["seat"] = seat

        def run(self) -> None:
            pass

    import tutor.ui.kiosk

    monkeypatch.setattr(tutor.ui.kiosk, "KioskApp", FakeKiosk)
    assert kiosk_command.run_kiosk(config, None, Path("kiosk.toml")) == 0
    assert child.started == []  # already the seat's process: nothing more is started
    seat = made["seat"]
    assert isinstance(seat, Seat) and (seat.name, seat.workshop, seat.port_range) == ("room-3", True, (18300, 18310))


def test_a_browser_tab_draws_a_seat_and_serves_it_with_its_own_home(child, tmp_path) -> None:
    before = dict(os.environ)
    root = tmp_path / "seats"
    assert browser_seat.main(["--root", str(root)]) == 7
    assert dict(os.environ) == before
    [(argv, env)] = child.started
    assert argv[-2:] == ["--seat", "otter-01"] and "tutor.workshop.browser_seat" in argv
    assert (env[ENV_SEAT], env[ENV_RULES], env["TUTOR_HOME"]) == ("otter-01", "kiosk", str(root / "otter-01"))


def test_a_browser_seat_started_without_its_environment_refuses(tmp_path, capsys) -> None:
    assert browser_seat.main(["--root", str(tmp_path), "--seat", "otter-01"]) == 2
    assert "does not serve seat otter-01" in capsys.readouterr().err


def test_a_seat_the_environment_cannot_describe_is_not_started(child) -> None:
    with pytest.raises(ValueError):
        seat_process.serve(Seat("Not A Clean Name"), ["true"])
    assert child.started == []
