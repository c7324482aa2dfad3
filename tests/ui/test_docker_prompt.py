"""The docker prompt with Pilot: type a line, see what the docker CLI prints; refusals, history, Ctrl+C.

Most tests put a stand-in `docker` first on PATH (a shell script printing what the real CLI prints),
so they need no engine; one runs the real CLI's `docker --version`, which asks no engine either.
The real engine's side (builds, runs, removals through the prompt) is tests/docker/test_docker_prompt_engine.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.ui.conftest import wait_for
from tests.ui.test_kiosk import config, make_kiosk, pin_hash, start_session, welcome_ready  # noqa: F401 - fixtures
from tutor.seat import Seat
from tutor.ui.screens.course_map import CourseMapScreen
from tutor.ui.screens.docker_prompt import DockerPromptScreen, HistoryInput
from tutor.ui.widgets.build_log import BuildLog

SIZE = (80, 24)
SEAT_ENGINE = "unix:///tmp/tutor-prompt-test.sock"

FAKE_DOCKER = r"""#!/bin/sh
# What the docker CLI prints, for the prompt's tests.
case "$1" in
images)
    echo "REPOSITORY   TAG           IMAGE ID       CREATED        SIZE"
    echo "myapp        latest        0123456789ab   2 hours ago    10.1MB"
    echo "golang       1.24-alpine   c7d71e48056f   9 hours ago    238MB"
    ;;
info) echo "engine=$DOCKER_HOST cwd=$(pwd)" ;;
logs)
    echo "listening on :8080"
    while true; do echo "GET /"; sleep 0.05; done
    ;;
rmi) echo "Error response from daemon: No such image: $2" >&2; exit 1 ;;
*) echo "docker $*" ;;
esac
"""


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "docker"
    script.write_text(FAKE_DOCKER)
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return script


@pytest.fixture
def app(make_app, tmp_path: Path):
    app = make_app()
    app.seat = Seat("pytest", home=tmp_path / "home")
    app.backend.engine = SEAT_ENGINE
    return app


def output(screen: DockerPromptScreen) -> list[str]:
    return [line.replace("\x1b[1m", "").replace("\x1b[0m", "").replace("\x1b[2m", "").replace("\x1b[31m", "") for line in screen.query_one(BuildLog).lines]


async def open_prompt(pilot) -> DockerPromptScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CourseMapScreen))
    await pilot.press("d")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, DockerPromptScreen))
    return pilot.app.screen


async def type_line(pilot, screen: DockerPromptScreen, line: str, wait: bool = True) -> None:
    done = screen.lines_done
    screen.query_one(HistoryInput).value = line
    await pilot.press("enter")
    if wait:
        await wait_for(pilot, lambda: screen.lines_done > done)
    await pilot.pause(0.15)  # the log paints at most ten times a second


async def test_a_command_shows_its_table_as_the_cli_prints_it(app, fake_docker) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompt(pilot)
        assert screen.query_one(HistoryInput).has_focus
        await type_line(pilot, screen, "docker images")
        lines = output(screen)
        assert lines[0] == "workspace $ docker images"
        # Columns kept: each row starts its TAG where the header does, nothing wrapped at 80 columns.
        header = lines[1]
        assert header.startswith("REPOSITORY")
        for row in lines[2:4]:
            assert row.index("latest" if "myapp" in row else "1.24") == header.index("TAG")
        assert len(lines) == 4


async def test_the_command_runs_on_the_seats_engine_in_the_workspace(app, fake_docker) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompt(pilot)
        await type_line(pilot, screen, "info")  # `docker` may be left out
        assert f"engine={SEAT_ENGINE} cwd={app.seat.workspace}" in output(screen)
        assert "DOCKER_HOST" not in os.environ or os.environ["DOCKER_HOST"] != SEAT_ENGINE


async def test_a_refused_line_says_why_and_runs_nothing(app, fake_docker) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompt(pilot)
        await type_line(pilot, screen, "docker images | grep myapp")
        text = "\n".join(output(screen))
        assert "refused: `|` pipes output into another program" in text
        assert "REPOSITORY" not in text


async def test_a_failing_command_shows_its_error_and_exit_status(app, fake_docker) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompt(pilot)
        await type_line(pilot, screen, "docker rmi nothing")
        lines = output(screen)
        assert "Error response from daemon: No such image: nothing" in lines
        assert any("exit status 1" in line for line in lines)


async def test_ctrl_c_stops_a_streaming_command_and_escape_goes_back(app, fake_docker) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompt(pilot)
        await type_line(pilot, screen, "docker logs -f web", wait=False)
        await wait_for(pilot, lambda: output(screen).count("GET /") >= 3)
        assert screen.running
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not screen.running)
        await pilot.pause(0.15)
        assert any("stopped (Ctrl+C)" in line for line in output(screen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen))
        # Opened again: the same output and history.
        screen = await open_prompt(pilot)
        await pilot.pause(0.15)
        assert output(screen)[0] == "workspace $ docker logs -f web"


async def test_escape_stops_a_running_command_before_it_closes(app, fake_docker) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompt(pilot)
        await type_line(pilot, screen, "docker logs -f web", wait=False)
        await wait_for(pilot, lambda: "listening on :8080" in output(screen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.running)
        assert app.screen is screen


async def test_up_and_down_walk_the_history(app, fake_docker) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompt(pilot)
        for line in ("docker images", "docker ps -a", "docker ps -a"):
            await type_line(pilot, screen, line)
        field = screen.query_one(HistoryInput)
        field.value = "docker ver"
        await pilot.press("up")
        assert field.value == "docker ps -a"  # the same line twice in a row is kept once
        await pilot.press("up")
        assert field.value == "docker images"
        await pilot.press("up")
        assert field.value == "docker images"
        await pilot.press("down", "down")
        assert field.value == "docker ver"  # back to what was being typed


async def test_a_missing_docker_cli_is_a_message_with_the_fix(app, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompt(pilot)
        await type_line(pilot, screen, "docker images")
        text = " ".join(output(screen))
        assert "the `docker` command is not installed here" in text
        assert "install the Docker CLI" in text
        assert "Traceback" not in text


async def test_the_real_docker_cli_answers(app) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompt(pilot)
        await type_line(pilot, screen, "docker --version")
        assert any(line.startswith("Docker version ") for line in output(screen)), output(screen)


async def test_the_key_is_in_the_footer_and_the_palette(app) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen))
        await pilot.pause(0.2)
        keys = [str(key.key) for key in app.screen.query("FooterKey")]
        assert "d" in keys
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "A docker prompt: type docker commands, run on this seat's engine" in titles


async def test_a_kiosk_seat_opens_the_prompt_only_in_a_session_and_refuses_what_leaves_the_seat(config, fake_docker, tmp_path) -> None:  # noqa: F811
    seat = Seat("pytest", workshop=False, port_range=None, home=tmp_path / "home")  # the kiosk makes it a workshop seat
    app = make_kiosk(config, seat=seat)
    async with app.run_test(size=(140, 44)) as pilot:
        await welcome_ready(pilot)
        await pilot.press("d")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, DockerPromptScreen)
        await start_session(pilot)
        screen = await open_prompt(pilot)
        assert screen.place.rules.workshop and screen.place.rules.port_range == (18300, 18310)
        await type_line(pilot, screen, "docker run -v /:/host alpine")
        await type_line(pilot, screen, "docker run -p 8080:8080 alpine")
        await type_line(pilot, screen, "docker -H tcp://10.0.0.1:2375 ps")
        text = "\n".join(output(screen))
        assert "host mounts are not allowed at this seat" in text
        assert "host port 8080 is outside this seat's ports 18300-18310" in text
        assert "`-H` talks to another engine" in text
        await pilot.pause(0.3)


async def test_a_kiosk_keeps_the_prompts_key_in_the_footer_of_a_lesson_at_80_columns(config, tmp_path) -> None:  # noqa: F811
    from tutor.ui.screens.lesson import LessonScreen

    app = make_kiosk(config, seat=Seat("pytest", workshop=True, home=tmp_path / "home"))
    async with app.run_test(size=SIZE) as pilot:
        await start_session(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen))
        await pilot.pause(0.3)
        keys = [str(key.key) for key in app.screen.query("FooterKey")]
        assert keys[:4] == ["ctrl+q", "question_mark", "escape", "d"], keys
