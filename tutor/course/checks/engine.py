"""Checks of what is on the engine: the learner types docker commands, the tutor looks.

Each judges an ``EngineSnapshot`` (``Evidence.engine``) and nothing else: pure, so recorded
snapshots of a real engine replay to the same verdicts. What a snapshot must read for a check
(its tags, names, files, ports) is the kind's ``asks``.

The objects are the exercise's by the names the task gives them (``myapp``, ``hello``): a learner's
own commands put no label on them.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from tutor import fmt
from tutor.course.checks import arguments
from tutor.course.checks.kind import CheckKind, Evidence, Verdict
from tutor.course.dockerfile import collapse, steps
from tutor.engine.engine_state import ContainerState, EngineAsks, EngineSnapshot, ImageState, made_by_hand, normal_tag


@dataclass(frozen=True)
class ContainerSpec:
    """Which container a check is about: by its name, by its image, or both; and what of it."""

    image: str | None = None
    name: str | None = None
    port: int | None = None
    path: str | None = None

    def __str__(self) -> str:
        if self.name and self.image:
            return f"{self.name} ({self.image})"
        return self.name or f"of {self.image}"


NO_ENGINE = "the engine could not be read"


def _snapshot(ev: Evidence) -> EngineSnapshot:
    if ev.engine is None:
        raise LookupError(NO_ENGINE)
    return ev.engine


def _containers(spec: ContainerSpec, snap: EngineSnapshot) -> list[ContainerState]:
    found = list(snap.containers)
    if spec.name:
        found = [c for c in found if c.name == spec.name]
    if spec.image:
        of_image = {c.id for c in snap.containers_of(spec.image)}
        found = [c for c in found if c.id in of_image]
    return found


def _what(spec: ContainerSpec) -> str:
    """`the container hello`, `a container of myapp`, `the container hello of myapp`."""
    if spec.name:
        return f"the container {spec.name}" + (f" of {spec.image}" if spec.image else "")
    return f"a container of {spec.image}"


def _shown_container(c: ContainerState) -> str:
    ports = ", ".join(f"{host}->{inner}" for inner, host in c.ports) or "no port published"
    state = c.state + (f" ({c.exit_code})" if c.exit_code is not None else "")
    return f"{c.name} ({c.short_id}, {state}, {ports})"


# -- built from this exercise's Dockerfile ------------------------------------------------------


def _final_stage(dockerfile: str) -> list[tuple[str, str]]:
    """(keyword, rest) of each instruction of the last stage."""
    found: list[tuple[str, str]] = []
    for step in steps(dockerfile):
        if step.keyword == "FROM":
            found = []
            continue
        found.append((step.keyword, step.instruction[len(step.keyword) :].strip()))
    return found


def _exec_form(rest: str) -> tuple[str, ...]:
    try:
        value = json.loads(rest)
    except ValueError:
        value = None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return ("/bin/sh", "-c", rest)


def differences(image: ImageState, dockerfile: str) -> list[str]:
    """How the image differs from what the Dockerfile's last stage makes; [] when it matches.

    What is compared is what any build of the file records, whichever builder: the command, the
    working folder, the ports exposed, and each RUN's command in the image's history.
    """
    stage = _final_stage(dockerfile)
    if not stage and not dockerfile.strip():
        return ["the exercise's Dockerfile is empty"]
    found: list[str] = []
    cmds = [rest for kw, rest in stage if kw == "CMD"]
    if cmds and image.cmd != _exec_form(cmds[-1]):
        found.append(f"its command is {_cmd(image.cmd)}; the Dockerfile's CMD is {cmds[-1]}")
    workdirs = [rest for kw, rest in stage if kw == "WORKDIR" and rest.startswith("/")]
    if workdirs and image.workdir.rstrip("/") != workdirs[-1].rstrip("/"):
        found.append(f"its working folder is {image.workdir or '/'}; the Dockerfile's is {workdirs[-1]}")
    for kw, rest in stage:
        if kw == "EXPOSE":
            for port in rest.split():
                spec = port if "/" in port else f"{port}/tcp"
                if spec not in image.exposed:
                    found.append(f"it exposes {', '.join(image.exposed) or 'no port'}; the Dockerfile exposes {port}")
        elif kw == "RUN":
            command = collapse(rest)
            if not any(command in collapse(line) for line in image.history):
                found.append(f"its history has no step `RUN {fmt.ellipsize(command, 40)}`")
    return found


def _cmd(cmd: tuple[str, ...] | None) -> str:
    return json.dumps(list(cmd)) if cmd else "none"


def _hand_made(image: ImageState) -> bool:
    return made_by_hand(image.tags, image.labels)


# -- the kinds -------------------------------------------------------------------------------------


def _image_built(_value: bool, ev: Evidence) -> Verdict:
    snap = _snapshot(ev)
    expected = "an image built by hand from this exercise's Dockerfile"
    candidates = [i for i in snap.images if _hand_made(i)]
    for image in candidates:
        if not differences(image, ev.dockerfile):
            name = ", ".join(image.tags) if image.tags else "no tag: docker images lists it as <none>"
            found = f"image {image.short_id} ({name})"
            return True, expected, found, None, f"Image {image.short_id} was built from this Dockerfile ({name})"
    candidates = [i for i in candidates if not i.tags]  # a build of another Dockerfile, without -t
    if candidates:
        why = differences(candidates[0], ev.dockerfile)[0]
        found = f"image {candidates[0].short_id} is not from this Dockerfile: {why}"
        return False, expected, found, None, f"The newest untagged image, {candidates[0].short_id}, is not from this Dockerfile: {why}"
    found = "no image built by hand"
    return False, expected, found, None, "No image built by hand yet: `docker build .` in your files' folder makes one"


def _image_exists(tag: str, ev: Evidence) -> Verdict:
    snap = _snapshot(ev)
    full = normal_tag(tag)
    expected = f"an image tagged {tag}, built from this exercise's Dockerfile"
    image = snap.image(full)
    if image is None:
        return False, expected, f"no image tagged {full}", None, f"No image is tagged {tag}: `docker build -t {tag} .` names one"
    why = differences(image, ev.dockerfile)
    if why:
        found = f"{full} ({image.short_id}) was not built from this Dockerfile: {why[0]}"
        return False, expected, found, None, f"The image {tag} ({image.short_id}) is not from this Dockerfile: {why[0]}"
    found = f"{full} ({image.short_id}), built from this Dockerfile"
    return True, expected, found, None, f"An image tagged {tag} exists ({image.short_id}), built from this Dockerfile"


def _image_gone(tag: str, ev: Evidence) -> Verdict:
    snap = _snapshot(ev)
    image = snap.image(tag)
    expected = f"no image tagged {tag}"
    if image is None:
        return True, expected, f"no image tagged {normal_tag(tag)}", None, f"No image is tagged {tag} any more"
    users = snap.containers_of(tag)
    if users:
        said = f"The image {tag} is still there, and {len(users)} container{'s' if len(users) > 1 else ''} use it: `docker rm` them, then `docker rmi {tag}`"
    else:
        said = f"The image {tag} ({image.short_id}) is still there: `docker rmi {tag}` removes it"
    return False, expected, f"{normal_tag(tag)} ({image.short_id})", None, said


def _container_running(spec: ContainerSpec, ev: Evidence) -> Verdict:
    snap = _snapshot(ev)
    expected = f"{_what(spec)} running" + (f", port {spec.port} published and answering" if spec.port else "")
    found = _containers(spec, snap)
    running = [c for c in found if c.running]
    if not running:
        if found:
            shown = _shown_container(found[0])
            return False, expected, shown, None, f"{fmt_cap(_what(spec))} exists but is not running: {shown}"
        return False, expected, "no such container", None, f"No container {spec}: `docker run` starts one"
    if spec.port is None:
        c = running[0]
        return True, expected, _shown_container(c), None, f"{fmt_cap(_what(spec))} is running: {_shown_container(c)}"
    best = None
    for c in running:
        answer = c.answer(spec.port)
        if answer is not None and answer.status is not None:
            body = fmt.ellipsize(" ".join(answer.body.split()), 60)
            said = f"{c.name} is running, port {spec.port} published on {answer.host_port}, and it answered {answer.status} \"{body}\""
            return True, expected, _shown_container(c), None, said
        best = best or c
    c = best or running[0]
    if c.host_port(spec.port) is None:
        said = f"{c.name} is running, but port {spec.port} is not published: nothing answers on the host (`-p {spec.port}:{spec.port}`)"
    else:
        answer = c.answer(spec.port)
        why = answer.error if answer is not None else "not asked"
        said = f"{c.name} is running and port {spec.port} is published on {c.host_port(spec.port)}, but nothing answered: {why}"
    return False, expected, _shown_container(c), None, said


def _port_unpublished(spec: ContainerSpec, ev: Evidence) -> Verdict:
    snap = _snapshot(ev)
    port = spec.port or 8080
    expected = f"{_what(spec)} running with port {port} not published"
    running = [c for c in _containers(spec, snap) if c.running]
    if not running:
        return False, expected, "no such container running", None, f"No container {spec} is running: `docker run -d` starts one"
    for c in running:
        if c.host_port(port) is None:
            said = f"{c.name} runs, and port {port} is not published: `curl localhost:{port}` finds nothing, the server answers inside the container only"
            return True, expected, _shown_container(c), None, said
    c = running[0]
    return False, expected, _shown_container(c), None, f"{c.name} publishes port {port}: this step runs a container without -p"


def _container_exited(spec: ContainerSpec, ev: Evidence) -> Verdict:
    snap = _snapshot(ev)
    expected = f"{_what(spec)} stopped (docker ps -a lists it)"
    found = _containers(spec, snap)
    stopped = [c for c in found if c.state in ("exited", "dead", "created")]
    if stopped:
        c = stopped[0]
        return True, expected, _shown_container(c), None, f"{c.name} is stopped ({c.state}, exit code {c.exit_code}): only `docker ps -a` lists it now"
    if found:
        c = found[0]
        return False, expected, _shown_container(c), None, f"{c.name} is still {c.state}: `docker stop {c.name}` stops it"
    return False, expected, "no such container", None, f"No container {spec} exists (stopped or running)"


def _container_gone(spec: ContainerSpec, ev: Evidence) -> Verdict:
    snap = _snapshot(ev)
    expected = f"no container {spec}, running or stopped"
    found = _containers(spec, snap)
    if not found:
        return True, expected, "none", None, f"No container {spec} is left, not even in `docker ps -a`"
    c = found[0]
    how = f"`docker rm {c.name}` removes it" if not c.running else f"`docker stop {c.name}` then `docker rm {c.name}`"
    return False, expected, _shown_container(c), None, f"The container {c.name} still exists ({c.state}): {how}"


def _file_in_container(spec: ContainerSpec, ev: Evidence) -> Verdict:
    snap = _snapshot(ev)
    path = spec.path or ""
    expected = f"{path} exists in {_what(spec)}"
    found = _containers(spec, snap)
    if not found:
        return False, expected, "no such container", None, f"No container {spec}: run it first"
    for c in found:
        if c.has_file(path):
            return True, expected, f"{path} in {c.name}", None, f"{path} exists in {c.name}: the change lives in the container's own layer"
    c = found[0]
    return False, expected, f"no {path} in {c.name}", None, f"{c.name} has no {path} yet: `docker exec {c.name} touch {path}` makes it"


def fmt_cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- arguments -------------------------------------------------------------------------------------


def _tag(value: Any) -> str:
    if isinstance(value, dict):
        value = arguments.mapping(value, ("tag",), "{tag: myapp}").get("tag")
    tag = arguments.text(value, "an image tag such as myapp or myapp:v1")
    if any(ch.isspace() for ch in tag) or tag.lower() != tag or tag.startswith(("-", ":")):
        raise ValueError(f"{tag!r} is not an image tag (lowercase, no spaces), e.g. myapp or myapp:v1")
    return tag


def _container_spec(keys: tuple[str, ...], needs: tuple[str, ...] = ()) -> Any:
    def parse(value: Any) -> ContainerSpec:
        spec = arguments.mapping(value, keys, "{image: myapp, name: hello}")
        image = _tag(spec["image"]) if "image" in spec else None
        name = spec.get("name")
        if name is not None:
            name = arguments.text(name, "a container name")
            if not all(ch.isalnum() or ch in "_.-" for ch in name):
                raise ValueError(f"{name!r} is not a container name (letters, digits, _ . -)")
        if image is None and name is None:
            raise ValueError("name the container: `image`, `name`, or both")
        port = spec.get("port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535):
            raise ValueError(f"`port` must be a port number (1-65535), found {arguments.shown(port)}")
        path = spec.get("path")
        if path is not None and (not isinstance(path, str) or not path.startswith("/")):
            raise ValueError(f"`path` must be an absolute path such as /tmp/hello, found {arguments.shown(path)}")
        for key in needs:
            if spec.get(key) is None:
                raise ValueError(f"missing `{key}`")
        return ContainerSpec(image, name, port, path)

    return parse


def _asks_tag(tag: str) -> EngineAsks:
    return EngineAsks(tags=frozenset({normal_tag(tag)}))


def _asks_container(spec: ContainerSpec) -> EngineAsks:
    return EngineAsks(
        tags=frozenset({normal_tag(spec.image)}) if spec.image else frozenset(),
        names=frozenset({spec.name}) if spec.name else frozenset(),
        paths=frozenset({spec.path}) if spec.path else frozenset(),
        ports=frozenset({spec.port}) if spec.port else frozenset(),
    )


def _shown(spec: ContainerSpec) -> str:
    words = [w for w in (spec.name, spec.image, f":{spec.port}" if spec.port else None, spec.path) if w]
    return " ".join(words)


def _title_running(spec: ContainerSpec) -> str:
    port = f", port {spec.port} published and answering" if spec.port else ""
    return f"{_what(spec)} is running{port}"


KINDS = (
    CheckKind(
        "image_built",
        arguments.true,
        _image_built,
        "an image built from this exercise's Dockerfile exists",
        shown=lambda _: "",
        watches_engine=True,
        asks=lambda _: EngineAsks(hand_made=True),
    ),
    CheckKind(
        "image_exists",
        _tag,
        _image_exists,
        "an image tagged {} exists, built from this exercise's Dockerfile",
        watches_engine=True,
        asks=_asks_tag,
    ),
    CheckKind("image_gone", _tag, _image_gone, "no image is tagged {}", watches_engine=True, asks=_asks_tag),
    CheckKind(
        "container_running",
        _container_spec(("image", "name", "port")),
        _container_running,
        _title_running,
        shown=_shown,
        watches_engine=True,
        asks=_asks_container,
    ),
    CheckKind(
        "port_unpublished",
        _container_spec(("image", "name", "port"), needs=("port",)),
        _port_unpublished,
        lambda s: f"{_what(s)} is running with port {s.port} not published",
        shown=_shown,
        watches_engine=True,
        asks=_asks_container,
    ),
    CheckKind(
        "container_exited",
        _container_spec(("image", "name")),
        _container_exited,
        lambda s: f"{_what(s)} is stopped (docker ps -a still lists it)",
        shown=_shown,
        watches_engine=True,
        asks=_asks_container,
    ),
    CheckKind(
        "container_gone",
        _container_spec(("image", "name")),
        _container_gone,
        lambda s: f"no container {s} is left, running or stopped",
        shown=_shown,
        watches_engine=True,
        asks=_asks_container,
    ),
    CheckKind(
        "file_in_container",
        _container_spec(("image", "name", "path"), needs=("path",)),
        _file_in_container,
        lambda s: f"{s.path} exists in {_what(s)}",
        shown=_shown,
        watches_engine=True,
        asks=_asks_container,
    ),
)


def command_words(line: str) -> list[str]:
    """A solution command split as a shell would (no shell runs it); ValueError when it cannot be."""
    return shlex.split(line)
