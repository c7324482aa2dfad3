"""What the engine holds, as a plain snapshot: images with their tags, config and history,
containers with their state, image, ports, and the answers to what was asked of them.

Exercises the learner does with the docker CLI are judged on a snapshot (pure, in
``course.checks.engine``); this module only reads the engine. A snapshot is JSON both ways
(``to_dict`` / ``from_dict``), so tests judge snapshots recorded from a real engine.

Only what an exercise asks about is read in full: the images its tags name and the images
nobody tagged for the tutor (a learner's ``docker build .``), the containers of those images or
of the names it asks for. A snapshot never changes the engine: files are looked up through the
archive endpoint (no exec), ports are asked with one HTTP request from this machine.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from tutor.engine import labels as tl

# Images without the tutor's tags looked at, newest first, for a learner's `docker build .`. Not
# only the last few: a fully cached BuildKit build gives back the image of the first build of
# those inputs, created back then, so other images made since can come before it.
HAND_MADE_IMAGES = 100


@dataclass(frozen=True)
class ImageState:
    id: str
    tags: tuple[str, ...]  # as `docker images` names it: `myapp:latest`; () for <none>
    created: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    cmd: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    workdir: str = ""
    exposed: tuple[str, ...] = ()  # "8080/tcp"
    user: str = ""
    history: tuple[str, ...] = ()  # each layer's created_by, oldest first
    size: int = 0

    @property
    def short_id(self) -> str:
        return self.id.split(":", 1)[-1][:12]


@dataclass(frozen=True)
class PortAnswer:
    """An HTTP GET / on a published port, from this machine: status None when nothing answered."""

    container_port: int
    host_port: int | None  # None: not published
    status: int | None = None
    body: str = ""
    error: str = ""


@dataclass(frozen=True)
class ContainerState:
    id: str
    name: str  # without the leading /
    image: str  # as the learner named it (`myapp`, or an id when the tag moved on)
    image_id: str
    state: str  # created | running | paused | restarting | exited | dead
    exit_code: int | None = None
    ports: tuple[tuple[int, int], ...] = ()  # (container port, host port) published, tcp
    labels: dict[str, str] = field(default_factory=dict)
    files: tuple[tuple[str, bool], ...] = ()  # (path, exists) for the paths asked
    answers: tuple[PortAnswer, ...] = ()

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def running(self) -> bool:
        return self.state == "running"

    def has_file(self, path: str) -> bool | None:
        return dict(self.files).get(path)

    def answer(self, port: int) -> PortAnswer | None:
        return next((a for a in self.answers if a.container_port == port), None)

    def host_port(self, port: int) -> int | None:
        return next((host for inner, host in self.ports if inner == port), None)


@dataclass(frozen=True)
class EngineAsks:
    """What to read beyond the listing: tags and names of the exercise, files, ports."""

    tags: frozenset[str] = frozenset()  # normalised (`myapp:latest`)
    names: frozenset[str] = frozenset()
    paths: frozenset[str] = frozenset()
    ports: frozenset[int] = frozenset()
    hand_made: bool = False  # untagged images too (a build without -t)

    def __or__(self, other: EngineAsks) -> EngineAsks:
        return EngineAsks(
            self.tags | other.tags,
            self.names | other.names,
            self.paths | other.paths,
            self.ports | other.ports,
            self.hand_made or other.hand_made,
        )


@dataclass(frozen=True)
class EngineSnapshot:
    images: tuple[ImageState, ...] = ()
    containers: tuple[ContainerState, ...] = ()
    taken: float = 0.0  # time.time() when it was read
    local: bool = True  # published ports are on this machine (asked from here)

    def image(self, tag: str) -> ImageState | None:
        wanted = normal_tag(tag)
        return next((i for i in self.images if wanted in i.tags), None)

    def image_by_id(self, image_id: str) -> ImageState | None:
        return next((i for i in self.images if i.id == image_id), None)

    def containers_of(self, tag: str) -> list[ContainerState]:
        """Containers started from the image ``tag`` names now, or named by that tag when they started."""
        image = self.image(tag)
        wanted = normal_tag(tag)
        return [
            c for c in self.containers if (image is not None and c.image_id == image.id) or normal_tag(c.image) == wanted
        ]

    def container(self, name: str) -> ContainerState | None:
        return next((c for c in self.containers if c.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineSnapshot:
        images = tuple(
            ImageState(**{**i, "tags": tuple(i["tags"]), "history": tuple(i["history"]), "exposed": tuple(i["exposed"]),
                          "cmd": _opt_tuple(i["cmd"]), "entrypoint": _opt_tuple(i["entrypoint"])})
            for i in data["images"]
        )
        containers = tuple(
            ContainerState(
                **{
                    **c,
                    "ports": tuple((int(a), int(b)) for a, b in c["ports"]),
                    "files": tuple((str(p), bool(e)) for p, e in c["files"]),
                    "answers": tuple(PortAnswer(**a) for a in c["answers"]),
                }
            )
            for c in data["containers"]
        )
        return cls(images, containers, float(data.get("taken", 0.0)), bool(data.get("local", True)))


def _opt_tuple(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def normal_tag(ref: str) -> str:
    """`myapp` -> `myapp:latest`; a digest or a tag already given is kept."""
    ref = ref.strip()
    if "@" in ref:
        return ref
    slash, colon = ref.rfind("/"), ref.rfind(":")
    return ref if colon > slash else f"{ref}:latest"


# -- reading the engine --------------------------------------------------------------------------


def read_snapshot(
    api: Any, asks: EngineAsks, local: bool = True, probe_timeout: float = 1.5, seat: str | None = None
) -> EngineSnapshot:
    """The engine's images and containers that ``asks`` concerns, read now. With ``seat``, what
    another seat made (its label says so: a workshop prompt labels what it makes) is not read:
    on a shared engine one seat's `myapp` is not another's."""

    def others(labels: dict[str, str] | None) -> bool:
        owner = (labels or {}).get(tl.SEAT)
        return seat is not None and owner is not None and owner != seat

    from docker.errors import APIError, NotFound

    taken = time.time()
    listed = api.images()
    wanted_images: dict[str, dict[str, Any]] = {}
    hand_made = 0
    for summary in sorted(listed, key=lambda s: s.get("Created", 0), reverse=True):
        tags = [t for t in summary.get("RepoTags") or [] if t != "<none>:<none>"]
        if others(summary.get("Labels")):
            continue
        if any(normal_tag(t) in asks.tags for t in tags):
            wanted_images[summary["Id"]] = summary
        elif asks.hand_made and made_by_hand(tags, summary.get("Labels") or {}) and hand_made < HAND_MADE_IMAGES:
            hand_made += 1
            wanted_images[summary["Id"]] = summary
    containers: list[ContainerState] = []
    for summary in api.containers(all=True):
        if others(summary.get("Labels")):
            continue
        names = [n.lstrip("/") for n in summary.get("Names") or []]
        named = bool(set(names) & asks.names)
        image_ref = summary.get("Image") or ""
        of_image = summary.get("ImageID") in wanted_images or normal_tag(image_ref) in asks.tags
        if not (named or of_image):
            continue
        try:
            containers.append(_container(api, summary["Id"], asks, local, probe_timeout))
        except (NotFound, APIError):
            continue  # removed while we looked
    images: list[ImageState] = []
    for image_id, summary in wanted_images.items():
        try:
            images.append(_image(api, image_id, summary))
        except (NotFound, APIError):
            continue
    return EngineSnapshot(tuple(images), tuple(containers), taken, local)


def made_by_hand(tags: Sequence[str], labels: Mapping[str, str]) -> bool:
    """An image the learner built, not the tutor: not tagged `tutor/...` nor a base image of the
    course, and not labelled as one of the tutor's own builds or stand-ins. A build typed in the
    docker prompt is labelled `build` with the lesson it was typed in, and is the learner's;
    `tutor build` labels `build` with no lesson, and an exercise's build `exercise`."""
    from tutor.engine.course_images import COURSE_BASE_IMAGES

    bases = {normal_tag(b) for b in COURSE_BASE_IMAGES}
    if any(t.startswith("tutor/") or normal_tag(t) in bases for t in tags):
        return False
    if labels.get(tl.MANAGED) == "true":
        return labels.get(tl.KIND) == "build" and bool(labels.get(tl.LESSON))
    return True


def _image(api: Any, image_id: str, summary: dict[str, Any]) -> ImageState:
    data = api.inspect_image(image_id)
    config = data.get("Config") or {}
    history = [h.get("CreatedBy") or "" for h in reversed(api.history(image_id) or [])]
    tags = tuple(t for t in data.get("RepoTags") or [] if t != "<none>:<none>")
    return ImageState(
        id=data["Id"],
        tags=tags,
        created=str(data.get("Created") or ""),
        labels=dict(config.get("Labels") or {}),
        cmd=_opt_tuple(config.get("Cmd")),
        entrypoint=_opt_tuple(config.get("Entrypoint")),
        workdir=config.get("WorkingDir") or "",
        exposed=tuple(sorted(config.get("ExposedPorts") or {})),
        user=config.get("User") or "",
        history=tuple(history),
        size=int(summary.get("Size") or data.get("Size") or 0),
    )


def _container(api: Any, container_id: str, asks: EngineAsks, local: bool, probe_timeout: float) -> ContainerState:
    data = api.inspect_container(container_id)
    state = data.get("State") or {}
    status = state.get("Status") or ("running" if state.get("Running") else "exited")
    bindings = (data.get("NetworkSettings") or {}).get("Ports") or {}
    ports: list[tuple[int, int]] = []
    for spec, hosts in bindings.items():
        port, _, proto = spec.partition("/")
        if proto != "tcp" or not hosts:
            continue
        for host in hosts:
            if host.get("HostPort"):
                ports.append((int(port), int(host["HostPort"])))
                break
    files = tuple((path, _has_file(api, container_id, path)) for path in sorted(asks.paths))
    answers: list[PortAnswer] = []
    if status == "running":
        for port in sorted(asks.ports):
            host_port = next((h for inner, h in ports if inner == port), None)
            answers.append(_ask(port, host_port, local, probe_timeout))
    return ContainerState(
        id=data["Id"],
        name=(data.get("Name") or "").lstrip("/"),
        image=(data.get("Config") or {}).get("Image") or "",
        image_id=data.get("Image") or "",
        state=status,
        exit_code=state.get("ExitCode") if status in ("exited", "dead") else None,
        ports=tuple(sorted(set(ports))),
        labels=dict((data.get("Config") or {}).get("Labels") or {}),
        files=files,
        answers=tuple(answers),
    )


def _has_file(api: Any, container_id: str, path: str) -> bool:
    """Whether ``path`` exists in the container's file system (running or stopped), without exec:
    the archive endpoint's HEAD answers with the file's stat and sends no content."""
    url = api._url("/containers/{0}/archive", container_id)
    response = api.head(url, params={"path": path}, timeout=10)
    return response.status_code == 200


def _ask(port: int, host_port: int | None, local: bool, timeout: float) -> PortAnswer:
    from tutor.engine.probe import probe

    if host_port is None:
        return PortAnswer(port, None, error=f"port {port} is not published: nothing on this machine leads to it")
    if not local:
        return PortAnswer(port, host_port, error="the engine is on another machine: its published ports are not asked")
    result = probe(host_port, "/", timeout=timeout)
    if result.status is None:
        return PortAnswer(port, host_port, error=result.error or "no answer")
    return PortAnswer(port, host_port, status=result.status, body=result.body[:400])


def merge_asks(asks: Iterable[EngineAsks]) -> EngineAsks:
    merged = EngineAsks()
    for one in asks:
        merged = merged | one
    return merged
