"""The docker prompt's rules: hostile command lines refused with their reason, ordinary ones run as typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.seat import Seat
from tutor.workshop.docker_prompt_rules import Allowed, PromptRules, Refused, decide

SEAT = "s1"
LABELS = ("--label=io.tutor.managed=true", f"--label=io.tutor.seat={SEAT}")


class FakeOwners:
    """The engine as the rules ask it: myapp and web are this seat's, other-app and theirs another seat's."""

    images = {"myapp": SEAT, "myapp:latest": SEAT, "other-app": "s2", "stray": "", "golang:1.24-alpine": "", "alpine": ""}
    containers = {"web": SEAT, "theirs": "s2", "outsider": ""}

    def image_seat(self, ref: str) -> str | None:
        return self.images.get(ref)

    def container_seat(self, ref: str) -> str | None:
        return self.containers.get(ref)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    exercise = tmp_path / "ws" / "go_app"
    exercise.mkdir(parents=True)
    (exercise / "Dockerfile").write_text("FROM golang:1.24-alpine\nCOPY . .\n")
    (exercise / "Dockerfile.other").write_text("FROM tutor/s2/go_app\n")
    (exercise / "Dockerfile.ubuntu").write_text("FROM ubuntu:24.04\n")
    (exercise / "Dockerfile.arg").write_text("ARG BASE=alpine:latest\nFROM ${BASE}\nARG STAGE=alpine\nCOPY --from=$STAGE /etc/os-release /\n")
    (exercise / "Dockerfile.late").write_text("ARG LATE=alpine\nFROM \\\n  $LATE\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "Dockerfile").write_text("FROM alpine\n")
    return exercise


def kiosk(workspace: Path) -> PromptRules:
    return PromptRules(SEAT, workshop=True, port_range=(18760, 18769), workspace_root=workspace.parent)


def run_kiosk(line: str, workspace: Path):
    return decide(line, kiosk(workspace), workspace, FakeOwners(), lesson="01-first-image")


# Each hostile line and a word its one-line reason must hold.
HOSTILE: list[tuple[str, str]] = [
    # shell syntax: never a shell
    ("docker ps; rm -rf /", "`;`"),
    ("docker ps && docker rmi alpine", "`&&`"),
    ("docker ps & ", "background"),
    ("docker images | grep myapp", "pipes"),
    ("docker images > /tmp/out", "redirect"),
    ("docker run < /etc/passwd alpine", "redirect"),
    ("docker rmi `docker images -q`", "backticks"),
    ("docker rmi $(docker images -q)", "`$( )`"),
    ('docker run -e "X=$(cat /etc/shadow)" alpine', "`$( )`"),
    ("docker run -e HOME=$HOME alpine", "shell variable"),
    ("docker ps # list", "comment"),
    ("docker run -v ~/.ssh:/k alpine", "home folder"),
    ("docker run 'alpine", "quote is not closed"),
    ('docker run "alpine', "quote is not closed"),
    ("docker ps \\", "backslash"),
    ("(docker ps)", "groups"),
    # only docker
    ("ls -la /", "not one"),
    ("bash -c 'docker ps'", "not one"),
    ("sudo docker ps", "sudo"),
    ("DOCKER_HOST=tcp://10.0.0.1:2375 docker ps", "shell variable"),
    ("docker-compose up", "not one"),
    ("curl http://localhost:18760/", "Probe (p)"),
    # another engine
    ("docker -H tcp://10.0.0.1:2375 ps", "another engine"),
    ("docker --host=unix:///var/run/other.sock ps", "another engine"),
    ("docker --context prod ps", "another engine"),
    ("docker -c prod ps", "another engine"),
    ("docker --config /root/.docker images", "configuration"),
    ("docker --tlsverify --tlscacert /x ps", "TLS"),
    ("docker context use prod", "another engine"),
    ("docker context ls", "another engine"),
    # leaving the container
    ("docker run -v /:/host alpine", "host mounts"),
    ("docker run --volume=/etc:/etc myapp", "host mounts"),
    ("docker run -v/var/run/docker.sock:/s myapp", "host mounts"),
    ("docker run -itv /home:/h myapp ls", "host mounts"),
    ("docker run --mount type=bind,source=/,target=/h myapp", "host mounts"),
    ("docker run --mount=src=/etc,target=/e,type=bind myapp", "host mounts"),
    ("docker run -v shared:/data myapp", "shared by every seat"),
    ("docker run --privileged myapp", "--privileged"),
    ("docker run --privileged=true myapp", "--privileged"),
    ("docker run --network host myapp", "this machine's network"),
    ("docker run --net=host myapp", "this machine's network"),
    ("docker run --network=container:theirs myapp", "another container"),
    ("docker run --pid host myapp", "every process"),
    ("docker run --pid=host myapp", "every process"),
    ("docker run --ipc=host myapp", "shared memory"),
    ("docker run --uts=host myapp", "host name"),
    ("docker run --userns=host myapp", "user namespace"),
    ("docker run --cgroupns=host myapp", "control groups"),
    ("docker run --device /dev/sda myapp", "devices"),
    ("docker run --device=/dev/kvm myapp", "devices"),
    ("docker run --cap-add SYS_ADMIN myapp", "--cap-add"),
    ("docker run --cap-add=ALL myapp", "--cap-add"),
    ("docker run --security-opt seccomp=unconfined myapp", "confinement"),
    ("docker run --security-opt=apparmor=unconfined myapp", "confinement"),
    ("docker run --use-api-socket myapp", "the engine itself"),
    ("docker run --volumes-from theirs myapp", "volumes"),
    ("docker run --env-file /etc/environment myapp", "reads a file"),
    ("docker run -e AWS_SECRET_ACCESS_KEY myapp", "copies a variable"),
    ("docker run --cidfile /tmp/x myapp", "writes a file"),
    ("docker run --sysctl net.ipv4.ip_forward=1 myapp", "kernel"),
    ("docker run --runtime=runc-unsafe myapp", "runtime"),
    ("docker run --label io.tutor.seat=s2 myapp", "tutor's own"),
    ("docker run --not-an-option myapp", "not an option"),
    ("docker exec --privileged web ls", "--privileged"),
    ("docker exec -e TOKEN web env", "copies a variable"),
    # ports
    ("docker run -p 80:8080 myapp", "below 1024"),
    ("docker run -p 8080:8080 myapp", "outside this seat's ports"),
    ("docker run --publish=18770:8080 myapp", "outside this seat's ports"),
    ("docker run -dp 9000:8080 myapp", "outside this seat's ports"),
    ("docker run -p 0.0.0.0:18760:8080 myapp", "127.0.0.1 only"),
    ("docker run -p 8080 myapp", "random host port"),
    ("docker run -p :8080 myapp", "random host port"),
    ("docker run -P myapp", "-P"),
    ("docker run --publish-all myapp", "-P"),
    ("docker run -p 18760-19000:8080 myapp", "outside this seat's ports"),
    # other seats' objects
    ("docker run other-app", "another seat's image"),
    ("docker run tutor/s2/go_app", "another seat's image"),
    ("docker run --rm -p 18760:8080 tutor/s2/go_app:latest", "another seat's image"),
    ("docker rmi other-app", "another seat's image"),
    ("docker history tutor/s2/go_app", "another seat's image"),
    ("docker stop theirs", "another seat's container"),
    ("docker rm -f theirs", "another seat's container"),
    ("docker logs -t theirs", "another seat's container"),
    ("docker logs --tail 5 theirs", "another seat's container"),
    ("docker exec -it theirs ls /", "another seat's container"),
    ("docker container stop theirs", "another seat's container"),
    ("docker inspect theirs", "another seat's container"),
    ("docker stop outsider", "not one of this seat's containers"),
    ("docker tag myapp tutor/s2/go_app", "another seat's images"),
    ("docker tag myapp golang:1.24-alpine", "course base image"),
    ("docker build -t alpine:latest .", "course base image"),
    ("docker build -t other-app .", "another seat's image"),
    # images outside the course
    ("docker run ubuntu", "not on this engine"),
    ("docker run stray", "not built at this seat"),
    ("docker pull ubuntu:24.04", "not on this engine"),
    ("docker rmi alpine", "stays on the engine"),
    ("docker rmi golang:1.24-alpine", "stays on the engine"),
    # builds
    ("docker build -f Dockerfile.other .", "another seat's image"),
    ("docker build -f Dockerfile.ubuntu .", "not allowed at this seat"),
    ("docker build -f Dockerfile.arg --build-arg BASE=tutor/s2/go_app .", "would choose the image"),
    ("docker build -f Dockerfile.arg --build-arg=STAGE=ubuntu .", "would choose the image"),
    ("docker build -f Dockerfile.late --build-arg LATE=ubuntu .", "would choose the image"),
    ("docker build ../../outside", "outside this seat's workspace"),
    ("docker build /", "outside this seat's workspace"),
    ("docker build -f /etc/passwd .", "outside this seat's workspace"),
    ("docker build https://github.com/x/y.git", "from the network"),
    ("docker build -", "reads no input"),
    ("docker build --output type=local,dest=/tmp/out .", "this machine's folders"),
    ("docker build -o /tmp/out .", "this machine's folders"),
    ("docker build --secret id=k,src=/etc/shadow .", "a file of this machine"),
    ("docker build --ssh default .", "SSH"),
    ("docker build --network=host .", "this machine's network"),
    ("docker build --allow network.host .", "extra rights"),
    ("docker build --build-context x=/etc .", "outside the exercise"),
    ("docker buildx build --push -t myapp .", "registry"),
    # the engine every seat shares
    ("docker system prune -af", "every seat's"),
    ("docker image prune -a", "every seat's"),
    ("docker container prune", "every seat's"),
    ("docker volume prune", "every seat's"),
    ("docker builder prune -af", "build cache"),
    ("docker plugin install vieux/sshfs", "plugins"),
    ("docker swarm init", "swarm"),
    ("docker service create alpine", "swarm"),
    ("docker volume create data", "volumes"),
    ("docker network create mine", "networks"),
    ("docker cp web:/app/main /tmp/main", "docker cp"),
    ("docker login -u me", "registry password"),
    ("docker push myapp", "registry"),
    ("docker save -o /tmp/x.tar myapp", "archive"),
    ("docker load -i /tmp/x.tar", "archive"),
    ("docker compose up", "compose"),
    ("docker attach web", "terminal"),
    ("docker events", "every seat's containers"),
    ("docker stats --no-stream", "every seat's containers"),
    ("docker stats theirs", "another seat's container"),
    # no terminal here
    ("docker exec -it web sh", "interactive shell"),
    ("docker exec -it web /bin/bash", "interactive shell"),
    ("docker run -it alpine sh", "interactive shell"),
]


def test_the_corpus_is_large() -> None:
    assert len(HOSTILE) >= 40
    assert len({line for line, _ in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize(("line", "why"), HOSTILE, ids=[line for line, _ in HOSTILE])
def test_a_hostile_line_is_refused_at_a_workshop_seat_with_its_reason(line: str, why: str, workspace: Path) -> None:
    decision = run_kiosk(line, workspace)
    assert isinstance(decision, Refused), f"{line!r} was allowed: {decision}"
    assert why in decision.reason, decision.reason
    assert "\n" not in decision.reason  # one line


ALLOWED: list[tuple[str, tuple[str, ...]]] = [
    ("docker images", ("docker", "images")),
    ("images", ("docker", "images")),
    ("docker image ls", ("docker", "image", "ls")),
    ("docker ps -a", ("docker", "ps", f"--filter=label=io.tutor.seat={SEAT}", "-a")),
    ("docker version", ("docker", "version")),
    ("docker stop web", ("docker", "stop", "web")),
    ("docker rm web", ("docker", "rm", "web")),
    ("docker rmi myapp", ("docker", "rmi", "myapp")),
    ("docker logs web", ("docker", "logs", "web")),
    ("docker inspect myapp", ("docker", "inspect", "myapp")),
    ("docker history myapp", ("docker", "history", "myapp")),
    ("docker history golang:1.24-alpine", ("docker", "history", "golang:1.24-alpine")),
    ("docker exec web ls /app", ("docker", "exec", "web", "ls", "/app")),
    ("docker exec -it web ls -la /app", ("docker", "exec", "web", "ls", "-la", "/app")),
    ('docker exec web sh -c "echo hi > /tmp/x; cat /tmp/x"', ("docker", "exec", "web", "sh", "-c", "echo hi > /tmp/x; cat /tmp/x")),
    ("docker exec -w /app web ls", ("docker", "exec", "--workdir=/app", "web", "ls")),
    ("docker run myapp", ("docker", "run", *LABELS, "--label=io.tutor.kind=container", "--label=io.tutor.lesson=01-first-image", "myapp")),
    (
        "docker run -p 18760:8080 myapp",
        ("docker", "run", *LABELS, "--label=io.tutor.kind=container", "--label=io.tutor.lesson=01-first-image", "--publish=127.0.0.1:18760:8080", "myapp"),
    ),
    (
        "docker run -dp 127.0.0.1:18761:8080 --name web2 myapp",
        (
            "docker", "run", *LABELS, "--label=io.tutor.kind=container", "--label=io.tutor.lesson=01-first-image",
            "--detach", "--publish=127.0.0.1:18761:8080", "--name=web2", "myapp",
        ),
    ),
    (
        "docker run --rm alpine ls -l /",
        ("docker", "run", *LABELS, "--label=io.tutor.kind=container", "--label=io.tutor.lesson=01-first-image", "--rm", "alpine", "ls", "-l", "/"),
    ),
    (
        # flags after the image belong to the container's command, not to docker
        "docker run --rm alpine --privileged -v /:/h",
        ("docker", "run", *LABELS, "--label=io.tutor.kind=container", "--label=io.tutor.lesson=01-first-image", "--rm", "alpine", "--privileged", "-v", "/:/h"),
    ),
    (
        "docker run -itp 18762:8080 myapp",
        ("docker", "run", *LABELS, "--label=io.tutor.kind=container", "--label=io.tutor.lesson=01-first-image", "--publish=127.0.0.1:18762:8080", "myapp"),
    ),
    (
        "docker build -t myapp .",
        ("docker", "build", *LABELS, "--label=io.tutor.kind=build", "--label=io.tutor.lesson=01-first-image", "--tag=myapp", "."),
    ),
    (
        "docker build --no-cache -t myapp:v2 ./",
        ("docker", "build", *LABELS, "--label=io.tutor.kind=build", "--label=io.tutor.lesson=01-first-image", "--no-cache", "--tag=myapp:v2", "./"),
    ),
    (
        "docker build -f Dockerfile.arg --build-arg VERSION=2 .",
        ("docker", "build", *LABELS, "--label=io.tutor.kind=build", "--label=io.tutor.lesson=01-first-image", "--file=Dockerfile.arg", "--build-arg=VERSION=2", "."),
    ),
    ("docker build .", ("docker", "build", *LABELS, "--label=io.tutor.kind=build", "--label=io.tutor.lesson=01-first-image", ".")),
    ("docker tag myapp myapp:v1", ("docker", "tag", "myapp", "myapp:v1")),
    ("docker stats --no-stream web", ("docker", "stats", "--no-stream", "web")),
    ("docker container ls -a", ("docker", "container", "ls", f"--filter=label=io.tutor.seat={SEAT}", "-a")),
    ("docker run --help", ("docker", "run", "--help")),
    ("docker", ("docker",)),
]  # fmt: skip


@pytest.mark.parametrize(("line", "argv"), ALLOWED, ids=[line for line, _ in ALLOWED])
def test_an_ordinary_line_runs_at_a_workshop_seat(line: str, argv: tuple[str, ...], workspace: Path) -> None:
    decision = run_kiosk(line, workspace)
    assert isinstance(decision, Allowed), decision
    assert decision.argv == argv


def test_the_prompt_says_what_it_changed(workspace: Path) -> None:
    decision = run_kiosk("docker run -it -p 18760:8080 myapp", workspace)
    assert isinstance(decision, Allowed)
    assert any("no terminal" in note for note in decision.notes)
    assert any("127.0.0.1" in note for note in decision.notes)


def test_streaming_commands_have_no_timeout(workspace: Path) -> None:
    def timeout(line: str) -> float | None:
        decision = run_kiosk(line, workspace)
        assert isinstance(decision, Allowed), decision
        return decision.timeout

    assert timeout("docker build -t myapp .") is None
    assert timeout("docker logs -f web") is None
    assert timeout("docker run myapp") is None  # a server in the foreground runs until Ctrl+C
    assert timeout("docker run -d myapp") is not None
    assert timeout("docker images") is not None
    assert timeout("docker logs web") is not None


# Outside a workshop the prompt is a convenience: still no shell, still only docker, still labelled.
def test_outside_a_workshop_fewer_refusals(tmp_path: Path) -> None:
    rules = PromptRules("local")
    assert decide("docker run -v /tmp:/tmp -p 80:80 --privileged ubuntu", rules, tmp_path) == Allowed(
        (
            "docker", "run", "--label=io.tutor.managed=true", "--label=io.tutor.seat=local", "--label=io.tutor.kind=container",
            "--volume=/tmp:/tmp", "--publish=80:80", "--privileged", "ubuntu",
        ),
        (),
        None,
    )  # fmt: skip
    assert isinstance(decide("docker system prune -f", rules, tmp_path), Allowed)
    assert isinstance(decide("docker -H tcp://elsewhere:2375 ps", rules, tmp_path), Allowed)
    for line in ("docker ps | head", "ls", "docker rmi $(docker images -q)", "docker run -it alpine sh"):
        assert isinstance(decide(line, rules, tmp_path), Refused), line
    assert decide("   ", rules, tmp_path) is None


def test_rules_come_from_the_seat(tmp_path: Path) -> None:
    seat = Seat("s3", workshop=True, port_range=(18800, 18809), home=tmp_path)
    rules = PromptRules.for_seat(seat)
    assert rules == PromptRules("s3", True, (18800, 18809), seat.workspace)
    assert PromptRules.for_seat(Seat("s3", workshop=True, home=tmp_path), port_range=(1, 2)).port_range == (1, 2)
