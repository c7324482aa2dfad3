"""The docker prompt on a real engine: the article's commands typed at a workshop seat, run by the docker CLI.

Everything here builds, runs and removes on a private engine (tests/second_engine.py) that holds
only alpine (loaded from the session's engine), so nothing is made on a shared one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.conftest import missing
from tests.second_engine import SecondEngine, free_tcp_port, second_engine
from tests.ui.conftest import connected_report, wait_for
from tutor.engine import labels as tl
from tutor.engine.docker_cli import CommandEnded, DockerCommand, EngineOwners, OutputLine, command_env
from tutor.seat import Seat
from tutor.workshop.docker_prompt_rules import Allowed, PromptRules, Refused, decide

SEAT = "prompt"
DOCKERFILE = 'FROM alpine:latest\nWORKDIR /app\nCOPY page.html ./\nEXPOSE 8080\nCMD ["httpd", "-f", "-p", "8080", "-h", "/app"]\n'


@pytest.fixture(scope="module")
def engine(engine_api: docker.APIClient) -> Iterator[SecondEngine]:
    if os.geteuid() != 0:
        missing("a private engine needs root and dockerd")
    with second_engine() as private:
        api = docker.APIClient(base_url=private.url, version="auto", timeout=300)
        api.load_image(engine_api.get_image("alpine:latest"))
        api.close()
        yield private


@pytest.fixture
def private_api(engine: SecondEngine) -> Iterator[docker.APIClient]:
    api = docker.APIClient(base_url=engine.url, version="auto", timeout=60)
    yield api
    api.close()


@pytest.fixture
def exercise(tmp_path: Path) -> Path:
    folder = tmp_path / "workspace" / "first-image"
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(DOCKERFILE)
    (folder / "page.html").write_text("hello from myapp\n")
    return folder


class Prompt:
    """What the prompt's worker does with a line: the rules, then the docker CLI on the private engine."""

    def __init__(self, engine: SecondEngine, rules: PromptRules, cwd: Path) -> None:
        self.engine, self.rules, self.cwd = engine, rules, cwd
        self.owners = EngineOwners(engine.url)

    def decide(self, line: str) -> Allowed | Refused | None:
        return decide(line, self.rules, self.cwd, self.owners, lesson="01-first-image")

    def run(self, line: str) -> tuple[int, list[str]]:
        decision = self.decide(line)
        assert isinstance(decision, Allowed), f"{line}: {decision}"
        command = DockerCommand(decision.argv, env=command_env(os.environ, self.engine.url), cwd=self.cwd, timeout=decision.timeout or 300)
        lines: list[str] = []
        code = -1
        for event in command.events():
            if isinstance(event, OutputLine):
                lines.append(event.text)
            elif isinstance(event, CommandEnded):
                code = event.exit_code
        return code, lines


def test_the_articles_commands_at_a_workshop_seat(engine: SecondEngine, private_api: docker.APIClient, exercise: Path) -> None:
    port = free_tcp_port()
    prompt = Prompt(engine, PromptRules(SEAT, True, (port, port), exercise.parent), exercise)

    code, out = prompt.run("docker build -t myapp .")
    assert code == 0, out
    image = private_api.inspect_image("myapp")
    labels = image["Config"]["Labels"]
    assert labels[tl.SEAT] == SEAT and labels[tl.MANAGED] == "true" and labels[tl.KIND] == "build"

    code, out = prompt.run("docker images")
    assert code == 0 and out[0].startswith("REPOSITORY") and any(line.startswith("myapp ") for line in out), out

    code, out = prompt.run(f"docker run -d --name web -p {port}:8080 myapp")
    assert code == 0, out
    container = private_api.inspect_container("web")
    assert container["Config"]["Labels"][tl.SEAT] == SEAT
    assert container["HostConfig"]["PortBindings"]["8080/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(port)}]

    code, out = prompt.run("docker ps")
    assert any("web" in line and f"127.0.0.1:{port}->8080/tcp" in line for line in out), out

    code, out = prompt.run("docker exec -it web ls /app")  # -i and -t dropped: one command, its output
    assert code == 0 and out == ["page.html"], out
    assert isinstance(prompt.decide("docker exec -it web sh"), Refused)

    code, out = prompt.run("docker stop web")
    assert code == 0 and out == ["web"], out
    code, out = prompt.run("docker ps -a")
    assert any("web" in line and "Exited" in line for line in out), out
    code, out = prompt.run("docker rm web")
    assert code == 0 and out == ["web"]
    code, out = prompt.run("docker rmi myapp")
    assert code == 0 and "Untagged: myapp:latest" in out, out

    # What the engine says, the prompt shows: a missing container is docker's own error, exit status 1.
    code, out = prompt.run("docker stop web")
    assert code == 1 and any("No such container: web" in line for line in out), out


def test_another_seats_objects_are_refused_by_what_the_engine_says(engine: SecondEngine, private_api: docker.APIClient, exercise: Path) -> None:
    theirs = private_api.create_container("alpine:latest", command=["true"], name="theirs", labels=tl.managed_labels("other", kind="container"))
    private_api.tag("alpine:latest", "their-app")
    try:
        prompt = Prompt(engine, PromptRules(SEAT, True, None, exercise.parent), exercise)
        for line in ("docker rm theirs", "docker logs theirs", "docker exec theirs ls"):
            decision = prompt.decide(line)
            assert isinstance(decision, Refused) and "another seat's container" in decision.reason, (line, decision)
        decision = prompt.decide("docker run their-app")  # an image without this seat's label
        assert isinstance(decision, Refused) and "not built at this seat" in decision.reason, decision
        assert isinstance(prompt.decide("docker run --rm alpine echo hi"), Allowed)  # a course base image
    finally:
        private_api.remove_container(theirs["Id"], force=True)
        private_api.remove_image("their-app")


def test_cancelling_a_build_stops_it(engine: SecondEngine, exercise: Path) -> None:
    (exercise / "Dockerfile").write_text("FROM alpine:latest\nRUN echo started && sleep 600\n")
    prompt = Prompt(engine, PromptRules(SEAT, True, None, exercise.parent), exercise)
    decision = prompt.decide("docker build --no-cache -t slow .")
    assert isinstance(decision, Allowed) and decision.timeout is None
    command = DockerCommand(decision.argv, env=command_env(os.environ, engine.url), cwd=exercise)
    started = time.monotonic()
    ended: CommandEnded | None = None
    for event in command.events():
        if isinstance(event, OutputLine) and "started" in event.text and "echo" not in event.text:
            command.cancel()
        if isinstance(event, CommandEnded):
            ended = event
        assert time.monotonic() - started < 120
    assert ended is not None and ended.cancelled and ended.exit_code != 0


async def test_the_prompt_in_the_app_lists_the_engines_images(engine: SecondEngine, tmp_path: Path) -> None:
    from tutor.ui.app import TutorApp
    from tutor.ui.backend import EngineBackend
    from tutor.ui.screens.course_map import CourseMapScreen
    from tutor.ui.screens.docker_prompt import DockerPromptScreen, HistoryInput
    from tutor.ui.widgets.build_log import BuildLog

    class Backend(EngineBackend):
        def check_engine(self):
            return connected_report()

    app = TutorApp(backend=Backend(engine.url), engine_check_seconds=0, seat=Seat(SEAT, home=tmp_path / "home"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen))
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DockerPromptScreen))
        screen = app.screen
        screen.query_one(HistoryInput).value = "docker images"
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.lines_done == 1, timeout=30)
        await pilot.pause(0.2)
        lines = screen.query_one(BuildLog).lines
        assert lines[1].startswith("REPOSITORY")
        assert any(line.startswith("alpine ") for line in lines), lines
