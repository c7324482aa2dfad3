"""What the in-app docker prompt may run: a command line in, the argv to run or a one-line refusal out.

The prompt is not a shell. A line is read with ``shlex`` (quotes as a shell reads them) and never
handed to one, so shell syntax (``;``, ``&&``, ``|``, ``>``, backticks, ``$(...)``, ``$VAR``) is
refused with what to do instead. Only docker commands run; the leading ``docker`` may be left out
(``images`` runs ``docker images``).

Everywhere: a build, ``docker run`` and ``docker create`` carry the tutor's labels of the seat
(``labels.managed_labels``), so ``tutor clean`` and a seat reset find what the prompt made;
another seat's images and containers are refused; ``io.tutor.*`` labels are the tutor's own;
``docker exec -it`` and ``docker run -it`` lose ``-i``/``-t`` (no terminal here: one command at a
time) and a bare interactive shell is refused with the one-command form instead.

At a workshop seat (a kiosk, a browser seat: ``Seat.workshop``) the seat must not be left:
only the course's verbs, no other engine (``-H``, ``--context``, ``docker context``), no host
mounts, devices, capabilities, privileged or host-namespace containers, host ports only from the
seat's range (on 127.0.0.1, added when left out), containers only of the course's base images and
the seat's own images, builds only from the seat's workspace and from what the seat may build
FROM (``engine.seat_rules``), and nothing that prunes, pushes, logs in or writes this machine's files.

``decide()`` is pure but for two questions it may ask: who owns an image or a container on the
engine (an ``Owners``, passed in) and what a Dockerfile says (read from disk).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tutor.engine import labels as tl
from tutor.engine.course_images import COURSE_BASE_IMAGES
from tutor.engine.seat_rules import _logical_lines, check_build_sources, normalize  # the builder's reading of lines
from tutor.seat import Seat

STREAMING_TIMEOUT: float | None = None
COMMAND_TIMEOUT = 120.0  # seconds a command that should answer at once may take (docker stop waits 10 s)
SHELLS = frozenset({"sh", "bash", "ash", "zsh", "dash", "/bin/sh", "/bin/bash", "/bin/ash", "/bin/zsh", "/bin/dash"})
DOCKER_WORDS = frozenset({"docker", "/usr/bin/docker", "/usr/local/bin/docker"})
_BASES = frozenset(normalize(b) for b in COURSE_BASE_IMAGES)
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Allowed:
    """Run ``argv`` (``docker`` first); ``notes`` say what the prompt changed and why."""

    argv: tuple[str, ...]
    notes: tuple[str, ...] = ()
    timeout: float | None = COMMAND_TIMEOUT  # None: runs until it ends or is cancelled (a build, logs -f)


@dataclass(frozen=True)
class Refused:
    reason: str  # one line: what is refused and why, with what to type instead when there is one


Decision = Allowed | Refused


class Owners(Protocol):
    """Who owns an object on the engine: a seat's name, ``""`` (no seat: made outside the tutor,
    a base image) or None (no such object)."""

    def image_seat(self, ref: str) -> str | None: ...

    def container_seat(self, ref: str) -> str | None: ...


class NoOwners:
    """No engine to ask: every object counts as missing (the engine then says so itself)."""

    def image_seat(self, ref: str) -> str | None:
        return None

    def container_seat(self, ref: str) -> str | None:
        return None


@dataclass(frozen=True)
class PromptRules:
    """The seat's rules as the prompt needs them: passed down from the app's ``Seat``."""

    seat: str = "local"
    workshop: bool = False
    port_range: tuple[int, int] | None = None
    workspace_root: Path | None = None  # at a workshop seat, builds read only below it

    @classmethod
    def for_seat(cls, seat: Seat, port_range: tuple[int, int] | None = None) -> PromptRules:
        return cls(seat.name, seat.workshop, port_range or seat.port_range, seat.workspace)


class _Refuse(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- shell syntax


def shell_syntax(line: str) -> str | None:
    """Why ``line`` needs a shell (a reason), or None. Quoted text is the command's own."""
    quote = ""
    i = 0
    n = len(line)
    while i < n:
        ch = line[i]
        nxt = line[i + 1] if i + 1 < n else ""
        if quote == "'":
            if ch == "'":
                quote = ""
        elif ch == "\\":
            i += 2
            continue
        elif ch == "$" and (nxt == "(" or nxt == "{" or nxt.isalpha() or nxt == "_"):
            if nxt == "(":
                return "`$( )` runs a command in a shell, and this prompt is not a shell: type each docker command on its own"
            return "`$NAME` is a shell variable and this prompt does not expand variables: write the value itself"
        elif ch == "`":
            return "backticks run a command in a shell, and this prompt is not a shell: type each docker command on its own"
        elif quote == '"':
            if ch == '"':
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == ";":
            return "`;` runs a second command in a shell: this prompt runs one docker command at a time"
        elif ch == "&":
            if nxt == "&":
                return "`&&` chains commands in a shell: this prompt runs one docker command at a time"
            return "`&` runs a command in the background in a shell: use `docker run -d` for a container that keeps running"
        elif ch == "|":
            return (
                "`|` pipes output into another program, which needs a shell: use docker's own `--filter` and `--format`"
            )
        elif ch in "<>":
            return "`<` and `>` redirect to files in a shell: this prompt shows the output here and reads no input"
        elif ch in "()":
            return "`( )` groups commands in a shell: this prompt runs one docker command at a time"
        elif ch in "\n\r":
            return "one command per line: this prompt runs one docker command at a time"
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return "`#` starts a comment in a shell: type the docker command alone"
        elif ch == "~" and (i == 0 or line[i - 1] in " \t=:"):
            return "`~` is the shell's home folder and this prompt does not expand it: write the path itself"
        i += 1
    return None


def split_line(line: str) -> list[str]:
    """The words of ``line`` as a shell would split them; _Refuse when it needs a shell or a quote is open."""
    why = shell_syntax(line)
    if why:
        raise _Refuse(why)
    try:
        return shlex.split(line, comments=False, posix=True)
    except ValueError as exc:
        if "quotation" in str(exc):
            raise _Refuse("a quote is not closed: close it (\"...\" or '...') or remove it") from None
        raise _Refuse("the line ends with a backslash: remove it, a command is one line here") from None


# --------------------------------------------------------------------------- the docker command line

# Global options (before the command). Value: takes an argument.
_GLOBAL = {
    "--config": True, "-c": True, "--context": True, "-D": False, "--debug": False, "-H": True, "--host": True,
    "-l": True, "--log-level": True, "--tls": False, "--tlscacert": True, "--tlscert": True, "--tlskey": True,
    "--tlsverify": False, "-v": False, "--version": False, "--help": False,
}  # fmt: skip
_GLOBAL_REFUSED = {
    "-H": "`-H` talks to another engine: this prompt runs on this seat's engine only",
    "--host": "`--host` talks to another engine: this prompt runs on this seat's engine only",
    "-c": "`--context` picks another engine: this prompt runs on this seat's engine only",
    "--context": "`--context` picks another engine: this prompt runs on this seat's engine only",
    "--config": "`--config` reads another docker configuration (and its credentials): not at this seat",
    "--tls": "TLS options talk to another engine: this prompt runs on this seat's engine only",
    "--tlsverify": "TLS options talk to another engine: this prompt runs on this seat's engine only",
    "--tlscacert": "TLS options read certificates from this machine: not at this seat",
    "--tlscert": "TLS options read certificates from this machine: not at this seat",
    "--tlskey": "TLS options read keys from this machine: not at this seat",
}

_MANAGEMENT = {
    "container": {
        "ls": "ps", "list": "ps", "ps": "ps", "run": "run", "create": "create", "start": "start", "stop": "stop",
        "restart": "restart", "kill": "kill", "rm": "rm", "remove": "rm", "exec": "exec", "logs": "logs",
        "inspect": "container inspect", "top": "top", "port": "port", "stats": "stats", "diff": "diff", "cp": "cp",
        "commit": "commit", "export": "export", "attach": "attach", "pause": "pause", "unpause": "unpause",
        "rename": "rename", "update": "update", "wait": "wait", "prune": "container prune",
    },
    "image": {
        "ls": "images", "list": "images", "build": "build", "history": "history", "inspect": "image inspect",
        "rm": "rmi", "remove": "rmi", "pull": "pull", "push": "push", "save": "save", "load": "load",
        "import": "import", "tag": "tag", "prune": "image prune",
    },
    "buildx": {"build": "build", "b": "build"},
    "builder": {"build": "build"},
}  # fmt: skip
# What a workshop seat may run (canonical names); everything else is refused there with a reason.
_WORKSHOP_VERBS = frozenset({
    "version", "info", "images", "ps", "build", "run", "create", "start", "stop", "restart", "kill", "rm", "rmi",
    "exec", "logs", "inspect", "container inspect", "image inspect", "history", "top", "port", "stats", "diff",
    "pause", "unpause", "rename", "wait", "tag", "pull", "search", "system df", "system info",
    "network ls", "network inspect", "volume ls", "buildx ls", "buildx version", "buildx du", "builder ls",
    "builder du", "help",
})  # fmt: skip
_WORKSHOP_VERB_REASONS = {
    "context": "`docker context` switches to another engine: this prompt runs on this seat's engine only",
    "plugin": "`docker plugin` installs plugins that run with the engine's rights: not at this seat",
    "swarm": "`docker swarm` changes the whole engine, which every seat shares: not at this seat",
    "node": "swarm commands change the whole engine, which every seat shares: not at this seat",
    "service": "swarm commands change the whole engine, which every seat shares: not at this seat",
    "stack": "swarm commands change the whole engine, which every seat shares: not at this seat",
    "secret": "swarm commands change the whole engine, which every seat shares: not at this seat",
    "config": "swarm commands change the whole engine, which every seat shares: not at this seat",
    "system prune": "`docker system prune` removes every seat's objects on this shared engine: remove your own with `docker rm` and `docker rmi`",
    "image prune": "`docker image prune` removes every seat's images on this shared engine: remove your own with `docker rmi`",
    "container prune": "`docker container prune` removes every seat's stopped containers: remove your own with `docker rm NAME`",
    "volume prune": "`docker volume prune` removes every seat's volumes on this shared engine: not at this seat",
    "network prune": "`docker network prune` removes every seat's networks on this shared engine: not at this seat",
    "builder prune": "`docker builder prune` empties the build cache every seat shares: not at this seat",
    "buildx prune": "`docker buildx prune` empties the build cache every seat shares: not at this seat",
    "volume": "volumes are kept by the engine and shared by every seat: only `docker volume ls` here",
    "network": "networks are shared by every seat of this engine: only `docker network ls` and `inspect` here",
    "cp": "`docker cp` copies files between a container and this machine: not at this seat (try `docker exec NAME cat FILE`)",
    "commit": "`docker commit` makes an image outside the course's builds: build it from a Dockerfile with `docker build`",
    "save": "`docker save` writes an archive of an image: not at this seat",
    "load": "`docker load` reads an archive from this machine: not at this seat",
    "import": "`docker import` reads an archive from this machine: not at this seat",
    "export": "`docker export` writes a container's files out: not at this seat (try `docker exec NAME ls /`)",
    "push": "`docker push` sends an image to a registry: not at this seat",
    "login": "`docker login` stores a registry password on this shared machine: not at this seat",
    "logout": "`docker login` and `logout` change this machine's registry credentials: not at this seat",
    "attach": "`docker attach` needs a terminal, which this prompt is not: use `docker logs -f NAME`",
    "events": "`docker events` shows every seat's containers on this shared engine: `docker ps -a` shows yours",
    "system events": "`docker events` shows every seat's containers on this shared engine: `docker ps -a` shows yours",
    "compose": "`docker compose` reads a file that may mount this machine's folders: not at this seat",
    "update": "`docker update` changes a container's limits: not at this seat",
    "trust": "`docker trust` manages signing keys on this machine: not at this seat",
    "manifest": "`docker manifest` talks to registries: not at this seat",
    "checkpoint": "`docker checkpoint` writes a container's memory to disk: not at this seat",
}
_KNOWN_VERBS = (
    _WORKSHOP_VERBS
    | {v.split()[0] for v in _WORKSHOP_VERB_REASONS}
    | set(_MANAGEMENT)
    | {"system", "buildx", "builder", "init", "scout", "debug"}
)
# Commands that run until they end or are cancelled: no timeout (a build, a pull, logs -f, stats, events).
_STREAMING = frozenset(
    {"build", "pull", "push", "logs", "events", "stats", "exec", "attach", "load", "wait", "run", "start"}
)


@dataclass
class _Option:
    name: str  # the long name when it has one ("--publish"), as canonical
    value: str | None  # None: a switch
    written: str  # as the learner wrote it ("-p", "--net")


@dataclass
class _Parsed:
    options: list[_Option] = field(default_factory=list)
    positionals: list[str] = field(default_factory=list)
    rest: list[str] = field(default_factory=list)  # after the image/container: the container's own command

    def values(self, *names: str) -> list[str]:
        return [o.value or "" for o in self.options if o.name in names]

    def has(self, name: str) -> bool:
        return any(o.name == name and (o.value or "true").lower() not in ("false", "0") for o in self.options)


@dataclass(frozen=True)
class _Spec:
    long: dict[str, bool]  # "--publish": takes a value
    short: dict[str, str]  # "p": "--publish"
    aliases: dict[str, str] = field(default_factory=dict)  # "--net": "--network"
    interspersed: bool = True  # options may follow positionals (not for run/exec: those belong to the command)
    positionals_before_rest: int = 0  # run: the image; exec: the container (then the command)


def _spec(values: str, switches: str, short: str, aliases: str = "", interspersed: bool = True, head: int = 0) -> _Spec:
    long = {f"--{n}": True for n in values.split()} | {f"--{n}": False for n in switches.split()} | {"--help": False}
    shorts = dict(pair.split("=") for pair in short.split())
    alias = dict(pair.split("=") for pair in aliases.split())
    return _Spec(
        long,
        {k: f"--{v}" for k, v in shorts.items()},
        {f"--{k}": f"--{v}" for k, v in alias.items()},
        interspersed,
        head,
    )


_RUN = _spec(
    "add-host annotation attach blkio-weight blkio-weight-device cap-add cap-drop cgroup-parent cgroupns cidfile "
    "cpu-count cpu-percent cpu-period cpu-quota cpu-rt-period cpu-rt-runtime cpu-shares cpus cpuset-cpus cpuset-mems "
    "detach-keys device device-cgroup-rule device-read-bps device-read-iops device-write-bps device-write-iops dns "
    "dns-option dns-search domainname entrypoint env env-file expose gpus group-add health-cmd health-interval "
    "health-retries health-start-interval health-start-period health-timeout hostname ip ip6 ipc isolation "
    "kernel-memory label label-file link link-local-ip log-driver log-opt mac-address memory memory-reservation "
    "memory-swap memory-swappiness mount name network network-alias oom-score-adj pid pids-limit platform publish "
    "pull restart runtime security-opt shm-size stop-signal stop-timeout storage-opt sysctl tmpfs ulimit user userns "
    "uts volume volume-driver volumes-from workdir",
    "detach disable-content-trust init interactive no-healthcheck oom-kill-disable privileged publish-all quiet "
    "read-only rm sig-proxy tty use-api-socket",
    "a=attach c=cpu-shares d=detach e=env h=hostname i=interactive l=label m=memory p=publish P=publish-all "
    "q=quiet t=tty u=user v=volume w=workdir",
    "net=network net-alias=network-alias dns-opt=dns-option",
    interspersed=False,
    head=1,
)
_EXEC = _spec(
    "detach-keys env env-file user workdir", "detach interactive privileged tty", "d=detach e=env i=interactive t=tty u=user w=workdir",
    interspersed=False, head=1,
)  # fmt: skip
_BUILD = _spec(
    "add-host allow annotation attest build-arg build-context builder cache-from cache-to call cgroup-parent "
    "cpu-period cpu-quota cpu-shares cpuset-cpus cpuset-mems file iidfile isolation label memory memory-swap "
    "metadata-file network no-cache-filter output platform progress provenance sbom secret security-opt shm-size "
    "ssh tag target ulimit",
    "check compress debug disable-content-trust force-rm load no-cache pull push quiet rm squash",
    "c=cpu-shares f=file m=memory o=output q=quiet t=tag",
)
# The options of the commands that name containers or images, so each name is found (and checked).
_TARGET_SPECS = {
    "stop": _spec("time signal", "", "t=time s=signal"),
    "restart": _spec("time signal", "", "t=time s=signal"),
    "kill": _spec("signal", "", "s=signal"),
    "rm": _spec("", "force link volumes", "f=force l=link v=volumes"),
    "logs": _spec("since until tail", "details follow timestamps", "f=follow n=tail t=timestamps"),
    "start": _spec("detach-keys checkpoint checkpoint-dir", "attach interactive", "a=attach i=interactive"),
    "top": _spec("", "", "", interspersed=False, head=1),
    "port": _spec("", "", ""),
    "diff": _spec("", "", ""),
    "pause": _spec("", "", ""),
    "unpause": _spec("", "", ""),
    "wait": _spec("", "", ""),
    "rename": _spec("", "", ""),
    "container inspect": _spec("format", "size", "f=format s=size"),
    "inspect": _spec("format type", "size", "f=format s=size"),
    "stats": _spec("format", "all no-stream no-trunc", "a=all"),
    "rmi": _spec("platform", "force no-prune", "f=force"),
    "history": _spec("format platform", "human no-trunc quiet", "H=human q=quiet"),
    "image inspect": _spec("format platform", "", "f=format"),
    "pull": _spec("platform", "all-tags quiet disable-content-trust", "a=all-tags q=quiet"),
    "tag": _spec("", "", ""),
    "save": _spec("output platform", "", "o=output"),
    "export": _spec("output", "", "o=output"),
}

_RUN_WORKSHOP_OK = frozenset(
    "--add-host --cap-drop --cpus --detach --domainname --entrypoint --env --expose --health-cmd --health-interval "
    "--health-retries --health-start-interval --health-start-period --health-timeout --help --hostname --init "
    "--interactive --label --memory --memory-reservation --memory-swap --name --network --network-alias "
    "--no-healthcheck --pids-limit --publish --pull --quiet --read-only --restart --rm --shm-size --sig-proxy "
    "--stop-signal --stop-timeout --tmpfs --tty --user --workdir --mount --ipc --pid --uts --userns --cgroupns".split()
)
_HOST_NAMESPACE = {
    "--pid": "`--pid host` lets the container see and signal every process of this machine",
    "--ipc": "`--ipc host` shares this machine's shared memory with the container",
    "--uts": "`--uts host` lets the container change this machine's host name",
    "--userns": "`--userns host` turns off the user namespace that keeps the container's root apart",
    "--cgroupns": "`--cgroupns host` shows the container this machine's control groups",
}
_RUN_REASONS = {
    "--privileged": "`--privileged` gives the container this machine's devices and kernel: not at this seat",
    "--cap-add": "`--cap-add` gives the container kernel powers that reach past its walls: not at this seat",
    "--security-opt": "`--security-opt` turns off the container's confinement (seccomp, AppArmor): not at this seat",
    "--device": "`--device` gives the container this machine's devices: not at this seat",
    "--device-cgroup-rule": "`--device-cgroup-rule` lets the container use this machine's devices: not at this seat",
    "--gpus": "`--gpus` gives the container this machine's graphics cards: not at this seat",
    "--volumes-from": "`--volumes-from` mounts another container's volumes: not at this seat",
    "--env-file": "`--env-file` reads a file of this machine: pass each variable with `-e NAME=value`",
    "--label-file": "`--label-file` reads a file of this machine: pass each label with `--label key=value`",
    "--cidfile": "`--cidfile` writes a file on this machine: not at this seat",
    "--publish-all": "`-P` publishes every exposed port on random host ports, outside this seat's range: use `-p HOST:CONTAINER`",
    "--use-api-socket": "`--use-api-socket` hands the container the engine itself, with every seat's containers: not at this seat",
    "--runtime": "`--runtime` runs the container with another runtime: not at this seat",
    "--sysctl": "`--sysctl` changes kernel settings: not at this seat",
    "--cgroup-parent": "`--cgroup-parent` moves the container out of the engine's control groups: not at this seat",
    "--link": "`--link` joins another container: use the container's published port instead",
    "--volume-driver": "volumes are shared by every seat of this engine: not at this seat",
    "--storage-opt": "`--storage-opt` changes the engine's storage: not at this seat",
    "--oom-kill-disable": "`--oom-kill-disable` lets a container take this machine's memory: not at this seat",
    "--platform": "`--platform` runs another machine's images (emulated): the course's images run as they are",
    "--env": "`-e NAME` without a value copies a variable from this machine: write `-e NAME=value`",
}


def _parse(words: Sequence[str], spec: _Spec, strict: bool) -> _Parsed:
    """Options and positionals as docker's own parser (pflag) reads them: ``--name=value``, ``--name value``,
    ``-itp 80:80``, ``-p80:80``, ``-p=80:80``; ``--`` ends the options. Unknown options: refused when
    ``strict``, else kept as switches."""
    out = _Parsed()
    i = 0
    words = list(words)
    while i < len(words):
        word = words[i]
        if out.rest or (not spec.interspersed and len(out.positionals) >= max(spec.positionals_before_rest, 1)):
            out.rest.extend(words[i:])
            break
        if word == "--":
            if spec.positionals_before_rest and len(out.positionals) < spec.positionals_before_rest:
                out.positionals.extend(words[i + 1 : i + 1 + spec.positionals_before_rest - len(out.positionals)])
                out.rest.extend(words[i + 1 + spec.positionals_before_rest :])
            else:
                out.positionals.extend(words[i + 1 :])
            break
        if word.startswith("--") and len(word) > 2:
            name, eq, value = word.partition("=")
            canonical = spec.aliases.get(name, name)
            takes = spec.long.get(canonical)
            if takes is None:
                if strict:
                    raise _Refuse(f"`{name}` is not an option this seat allows here")
                out.options.append(_Option(canonical, value if eq else None, name))
            elif takes and not eq:
                if i + 1 >= len(words):
                    raise _Refuse(f"`{name}` needs a value")
                out.options.append(_Option(canonical, words[i + 1], name))
                i += 1
            else:
                out.options.append(_Option(canonical, value if eq else None, name))
        elif word.startswith("-") and len(word) > 1:
            letters = word[1:]
            j = 0
            while j < len(letters):
                letter = letters[j]
                short = spec.short.get(letter)
                if short is None:
                    if strict:
                        raise _Refuse(f"`-{letter}` is not an option this seat allows here")
                    out.options.append(_Option(f"-{letter}", None, f"-{letter}"))
                    j += 1
                    continue
                if spec.long.get(short):
                    value = letters[j + 1 :]
                    if value.startswith("="):
                        value = value[1:]
                    if not value:
                        if i + 1 >= len(words):
                            raise _Refuse(f"`-{letter}` needs a value")
                        value = words[i + 1]
                        i += 1
                    out.options.append(_Option(short, value, f"-{letter}"))
                    break
                out.options.append(_Option(short, None, f"-{letter}"))
                j += 1
        else:
            out.positionals.append(word)
        i += 1
    return out


def _rebuild(parsed: _Parsed, drop: frozenset[str] = frozenset()) -> list[str]:
    args: list[str] = []
    for option in parsed.options:
        if option.name in drop:
            continue
        args.append(option.name if option.value is None else f"{option.name}={option.value}")
    return args


def _label_args(seat: str, kind: str, lesson: str | None) -> list[str]:
    return [f"--label={k}={v}" for k, v in tl.managed_labels(seat, lesson, kind=kind).items()]


# --------------------------------------------------------------------------- the rules


@dataclass
class _Context:
    rules: PromptRules
    cwd: Path
    owners: Owners
    lesson: str | None
    read_text: Callable[[Path], str]
    notes: list[str] = field(default_factory=list)

    @property
    def workshop(self) -> bool:
        return self.rules.workshop

    @property
    def seat(self) -> str:
        return self.rules.seat


def _tutor_seat(ref: str) -> str | None:
    parts = normalize(ref).split("/")
    return parts[1] if len(parts) >= 3 and parts[0] == "tutor" else None


def _check_image(ctx: _Context, ref: str, purpose: str) -> None:
    """Refuse another seat's image everywhere; at a workshop seat anything but a base image or the seat's own."""
    named = _tutor_seat(ref)
    if named is not None and named != ctx.seat:
        raise _Refuse(f"{ref} is another seat's image (seat {named}): use your own images")
    owner = None if normalize(ref) in _BASES else ctx.owners.image_seat(ref)
    if owner and owner != ctx.seat:
        raise _Refuse(f"{ref} is another seat's image on this shared engine: use your own images")
    if not ctx.workshop or named == ctx.seat or owner == ctx.seat:
        return
    if normalize(ref) in _BASES:
        if purpose == "remove":
            raise _Refuse(f"{ref} is a course base image every seat builds from: it stays on the engine")
        return
    allowed = ", ".join(COURSE_BASE_IMAGES)
    if owner is None and purpose in ("run", "pull"):
        raise _Refuse(
            f"{ref} is not on this engine, and this seat runs only the course's base images ({allowed}) "
            f"and images built here: build it first (`docker build -t {ref.split(':')[0]} .`)"
        )
    if owner is None:
        return  # not there: docker says so itself
    raise _Refuse(
        f"{ref} was not built at this seat: this seat uses only the course's base images ({allowed}) and its own images"
    )


def _check_container(ctx: _Context, ref: str) -> None:
    owner = ctx.owners.container_seat(ref)
    if owner and owner != ctx.seat:
        raise _Refuse(f"{ref} is another seat's container: use your own (`docker ps -a` lists them)")
    if ctx.workshop and owner == "":
        raise _Refuse(f"{ref} is not one of this seat's containers: use your own (`docker ps -a` lists them)")


def _check_label(value: str) -> None:
    if value.strip().lower().startswith("io.tutor."):
        raise _Refuse("`io.tutor.*` labels are the tutor's own: choose another label name")


def _check_tag(ctx: _Context, tag: str) -> None:
    named = _tutor_seat(tag)
    if named is not None and named != ctx.seat:
        raise _Refuse(f"{tag} names another seat's images (seat {named}): tag your image with a name of your own")
    if ctx.workshop and normalize(tag) in _BASES:
        raise _Refuse(
            f"{tag} is a course base image every seat builds from: tag your image with a name of your own (myapp)"
        )
    owner = ctx.owners.image_seat(tag)
    if owner and owner != ctx.seat:
        raise _Refuse(f"the tag {tag} names another seat's image on this shared engine: choose another name")


def _check_port(ctx: _Context, spec: str) -> str:
    """One ``-p`` value at a workshop seat: its host port in the seat's range, 127.0.0.1 added when left out."""
    body, _, proto = spec.partition("/")
    if body.startswith("["):  # [::1]:8080:80
        host_ip, _, rest = body[1:].partition("]")
        parts = [host_ip, *rest.lstrip(":").split(":")]
    else:
        parts = body.split(":")
    low, high = ctx.rules.port_range or (1024, 65535)
    example = f"-p {low}:8080"
    if len(parts) == 1:
        raise _Refuse(f"`-p {spec}` publishes on a random host port: give one of this seat's, e.g. `{example}`")
    if len(parts) == 2:
        host_ip, host_port, container = "", parts[0], parts[1]
    elif len(parts) == 3:
        host_ip, host_port, container = parts
    else:
        raise _Refuse(f"`-p {spec}` is not a port mapping docker reads: write `{example}`")
    if host_ip not in ("", "127.0.0.1"):
        raise _Refuse(
            f"this seat publishes on 127.0.0.1 only, not on {host_ip}: write `-p 127.0.0.1:{host_port or low}:{container}`"
        )
    if not host_port:
        raise _Refuse(f"`-p {spec}` publishes on a random host port: give one of this seat's, e.g. `{example}`")
    first, _, last = host_port.partition("-")
    if not (first.isdigit() and (not last or last.isdigit())):
        raise _Refuse(f"`{host_port}` is not a host port: write `{example}`")
    for port in {int(first), int(last or first)}:
        if port < 1024:
            raise _Refuse(
                f"host port {port} is below 1024, kept for the machine's own services: use one from {low}-{high}"
            )
        if ctx.rules.port_range and not low <= port <= high:
            raise _Refuse(
                f"host port {port} is outside this seat's ports {low}-{high}: e.g. `-p {low}:{container.split('-')[0] or 8080}`"
            )
    if not host_ip:
        ctx.notes.append(
            f"published on 127.0.0.1 only, as every container of this seat: 127.0.0.1:{host_port}:{container}"
        )
    return f"127.0.0.1:{host_port}:{container}" + (f"/{proto}" if proto else "")


def _is_host_path(source: str) -> bool:
    return source.startswith(("/", ".", "~")) or "/" in source or "\\" in source


def _check_run_options(ctx: _Context, parsed: _Parsed) -> list[str]:
    """Refuse what leaves a workshop seat; return the options to pass (ports rewritten)."""
    for option in parsed.options:
        name, value = option.name, option.value or ""
        on = value.lower() not in ("false", "0")
        if name == "--label":
            _check_label(value)
        if not ctx.workshop:
            continue
        if name == "--volume":
            source = value.split(":", 1)[0] if ":" in value else ""
            if source and _is_host_path(source):
                raise _Refuse(
                    f"`-v {value}` mounts this machine's folder {source} into the container: host mounts are not allowed at this seat"
                )
            raise _Refuse(
                "volumes are kept by the engine and shared by every seat: not at this seat (`--tmpfs /path` gives scratch space)"
            )
        if name == "--mount":
            fields = dict(part.partition("=")[::2] for part in value.split(","))
            kind = fields.get("type", "volume").strip().lower()
            if kind == "bind":
                raise _Refuse(
                    "`--mount type=bind` mounts this machine's folders into the container: host mounts are not allowed at this seat"
                )
            if kind != "tmpfs":
                raise _Refuse(f"`--mount type={kind}` is shared by every seat of this engine: only `type=tmpfs` here")
            continue
        if name in ("--network",):
            net = value.strip().lower()
            if net == "host":
                raise _Refuse(
                    "`--network host` shares this machine's network: the container could reach every service of the seat machine"
                )
            if net.startswith("container:"):
                raise _Refuse("`--network container:...` joins another container's network: not at this seat")
            if net not in ("bridge", "none", "default"):
                raise _Refuse(f"network {value} is not this seat's: use the default network (leave `--network` out)")
            continue
        if name in _HOST_NAMESPACE:
            if value.strip().lower() == "host":
                raise _Refuse(f"{_HOST_NAMESPACE[name]}: not at this seat")
            raise _Refuse(f"`{option.written} {value}` shares another container's namespace: not at this seat")
        if name == "--env" and "=" not in value:
            raise _Refuse(_RUN_REASONS["--env"])
        if name == "--pull" and value.lower() not in ("missing", "never"):
            raise _Refuse(
                "`--pull always` fetches from a registry: the course's images are already here (leave `--pull` out)"
            )
        if name == "--restart" and value.lower().split(":")[0] not in ("no", "on-failure"):
            raise _Refuse(
                f"`--restart {value}` brings the container back after a seat reset: use `--restart no` or leave it out"
            )
        if name in _RUN_REASONS and on and name != "--env":
            raise _Refuse(_RUN_REASONS[name])
        if name not in _RUN_WORKSHOP_OK:
            raise _Refuse(f"`{option.written}` is not an option this seat allows for docker run")
    args: list[str] = []
    for option in parsed.options:
        if option.name in ("--interactive", "--tty"):
            continue
        if ctx.workshop and option.name == "--publish" and option.value is not None:
            args.append(f"--publish={_check_port(ctx, option.value)}")
        else:
            args.append(option.name if option.value is None else f"{option.name}={option.value}")
    return args


def _no_terminal(ctx: _Context, parsed: _Parsed, verb: str, target: str) -> None:
    if not (parsed.has("--interactive") or parsed.has("--tty")):
        return
    command = parsed.rest
    if command and command[0] in SHELLS and len(command) == 1:
        example = f"docker exec {target} ls /app" if verb == "exec" else f"docker run --rm {target} ls /"
        raise _Refuse(
            f"an interactive shell needs a terminal, which this prompt is not: run one command at a time (`{example}`)"
        )
    ctx.notes.append("-i and -t dropped: this prompt has no terminal, so the command runs once and shows its output")


def _decide_run(ctx: _Context, verb: str, head: list[str], args: list[str]) -> Allowed:
    parsed = _parse(args, _RUN, strict=ctx.workshop)
    if parsed.has("--help"):
        return Allowed(("docker", *head, "--help"))
    if not parsed.positionals:
        raise _Refuse(f"`docker {verb}` needs an image: e.g. `docker {verb} myapp`")
    image = parsed.positionals[0]
    _check_image(ctx, image, "run")
    _no_terminal(ctx, parsed, "run", image)
    options = _check_run_options(ctx, parsed)
    argv = ("docker", *head, *_label_args(ctx.seat, "container", ctx.lesson), *options, image, *parsed.rest)
    detached = parsed.has("--detach") or verb == "create"
    return Allowed(argv, tuple(ctx.notes), COMMAND_TIMEOUT if detached else STREAMING_TIMEOUT)


def _decide_exec(ctx: _Context, head: list[str], args: list[str]) -> Allowed:
    parsed = _parse(args, _EXEC, strict=ctx.workshop)
    if parsed.has("--help"):
        return Allowed(("docker", *head, "--help"))
    if not parsed.positionals or not parsed.rest:
        raise _Refuse("`docker exec` needs a container and a command: e.g. `docker exec web ls /app`")
    target = parsed.positionals[0]
    _check_container(ctx, target)
    _no_terminal(ctx, parsed, "exec", target)
    if ctx.workshop:
        for option in parsed.options:
            if option.name == "--privileged" and (option.value or "true").lower() not in ("false", "0"):
                raise _Refuse(
                    "`docker exec --privileged` gives the command this machine's devices and kernel: not at this seat"
                )
            if option.name == "--env-file":
                raise _Refuse(_RUN_REASONS["--env-file"])
            if option.name == "--env" and "=" not in (option.value or ""):
                raise _Refuse(_RUN_REASONS["--env"])
    options = _rebuild(parsed, frozenset({"--interactive", "--tty"}))
    return Allowed(("docker", *head, *options, target, *parsed.rest), tuple(ctx.notes), STREAMING_TIMEOUT)


_BUILD_WORKSHOP_OK = frozenset(
    "--build-arg --check --file --force-rm --help --label --load --network --no-cache --no-cache-filter --progress "
    "--pull --quiet --rm --tag --target".split()
)
_BUILD_REASONS = {
    "--output": "`--output` writes the build's result into this machine's folders: the image is kept on the engine",
    "--secret": "`--secret` hands the build a file of this machine: not at this seat",
    "--ssh": "`--ssh` hands the build this machine's SSH agent or keys: not at this seat",
    "--build-context": "`--build-context` reads folders outside the exercise: not at this seat",
    "--iidfile": "`--iidfile` writes a file on this machine: `docker images` shows the image's id",
    "--metadata-file": "`--metadata-file` writes a file on this machine: `docker inspect` shows the image",
    "--allow": "`--allow` grants a build extra rights (the host's network, insecure steps): not at this seat",
    "--push": "`--push` sends the image to a registry: not at this seat",
    "--builder": "`--builder` builds elsewhere than this seat's engine: leave it out",
    "--cache-to": "`--cache-to` writes the build cache out of the engine: not at this seat",
    "--cache-from": "`--cache-from` reads a cache from outside the engine: not at this seat",
    "--security-opt": "`--security-opt` turns off the build's confinement: not at this seat",
}


def _decide_build(ctx: _Context, head: list[str], args: list[str]) -> Allowed:
    parsed = _parse(args, _BUILD, strict=ctx.workshop)
    if parsed.has("--help"):
        return Allowed(("docker", *head, "--help"))
    for option in parsed.options:
        if option.name == "--label":
            _check_label(option.value or "")
        if option.name == "--tag":
            _check_tag(ctx, option.value or "")
        if not ctx.workshop:
            continue
        if option.name in _BUILD_REASONS:
            raise _Refuse(_BUILD_REASONS[option.name])
        if option.name == "--network" and (option.value or "").lower() not in ("default", "none", "bridge"):
            raise _Refuse(
                "a build step on this machine's network could reach every service of the seat machine: leave `--network` out"
            )
        if option.name not in _BUILD_WORKSHOP_OK:
            raise _Refuse(f"`{option.written}` is not an option this seat allows for docker build")
    if len(parsed.positionals) != 1:
        raise _Refuse("`docker build` needs one build context: `docker build -t myapp .` builds the folder you are in")
    context = parsed.positionals[0]
    if ctx.workshop:
        _check_build_input(ctx, context, (parsed.values("--file") or [""])[-1], parsed.values("--build-arg"))
    argv = ("docker", *head, *_label_args(ctx.seat, "build", ctx.lesson), *_rebuild(parsed), context)
    return Allowed(argv, tuple(ctx.notes), STREAMING_TIMEOUT)


def _check_build_input(ctx: _Context, context: str, dockerfile: str, build_args: Sequence[str] = ()) -> None:
    from tutor.workshop.safety import UnsafeContext, check_build_context, is_within

    if context == "-" or dockerfile == "-":
        raise _Refuse("this prompt reads no input: build a folder (`docker build -t myapp .`)")
    if "://" in context or context.startswith("git@") or context.endswith(".git"):
        raise _Refuse("a build context from the network is not allowed at this seat: build the exercise's folder (`.`)")
    root = ctx.rules.workspace_root
    folder = (ctx.cwd / context).resolve()
    file = (ctx.cwd / dockerfile).resolve() if dockerfile else folder / "Dockerfile"
    if root is None:
        raise _Refuse("this seat has no workspace to build from")
    if not is_within(folder, root):
        raise _Refuse(
            f"the build context {context} lies outside this seat's workspace: build the exercise's folder (`.`)"
        )
    if dockerfile and not is_within(file, root):
        raise _Refuse(
            f"the Dockerfile {dockerfile} lies outside this seat's workspace: build the exercise's own Dockerfile"
        )
    try:
        check_build_context(folder, root, file)
    except UnsafeContext as exc:
        raise _Refuse(exc.message) from None
    try:
        text = ctx.read_text(file)
    except OSError:
        return  # docker says the Dockerfile is missing, in its own words
    refusal = check_build_sources(text, ctx.seat, api=None, strict=True)
    if refusal is not None:
        raise _Refuse(refusal.message)
    # The check read the Dockerfile's ARG defaults; a --build-arg would replace them where an image is chosen.
    chooses_image = [
        line
        for _, line in _logical_lines(text)
        if re.match(r"\s*(onbuild\s+)?from\b", line, re.I) or "from=" in line.lower()  # FROM, COPY --from=, RUN --mount=from=
    ]
    for arg in build_args:
        name = arg.split("=", 1)[0].strip()
        if name and any(re.search(rf"\$\{{?{re.escape(name)}\b", line) for line in chooses_image):
            raise _Refuse(f"`--build-arg {name}` would choose the image this build starts from: at this seat the Dockerfile's own default is used")


_CONTAINER_TARGETS = frozenset(
    {
        "start",
        "stop",
        "restart",
        "kill",
        "rm",
        "logs",
        "top",
        "port",
        "diff",
        "pause",
        "unpause",
        "wait",
        "rename",
        "container inspect",
        "stats",
    }
)
_IMAGE_TARGETS = {"rmi": "remove", "history": "read", "image inspect": "read", "pull": "pull"}


def _decide_other(ctx: _Context, verb: str, head: list[str], args: list[str]) -> Allowed:
    if "--help" in args:
        return Allowed(("docker", *head, *args))
    spec = _TARGET_SPECS.get(verb)
    parsed = _parse(args, spec, strict=ctx.workshop) if spec else _Parsed()
    targets = parsed.positionals
    if verb == "stats" and ctx.workshop and not targets:
        raise _Refuse("`docker stats` alone shows every seat's containers on this shared engine: name yours (`docker stats web`)")
    if verb in _CONTAINER_TARGETS:
        for target in targets[:1] if verb in ("rename", "port", "top") else targets:
            _check_container(ctx, target)
    elif verb in _IMAGE_TARGETS:
        for target in targets:
            _check_image(ctx, target, _IMAGE_TARGETS[verb])
    elif verb == "inspect":
        for target in targets:
            if ctx.owners.container_seat(target) is not None:
                _check_container(ctx, target)
            else:
                _check_image(ctx, target, "read")
    elif verb == "tag":
        if len(targets) != 2:
            raise _Refuse("`docker tag` takes an image and a new name: `docker tag myapp myapp:v1`")
        _check_image(ctx, targets[0], "read")
        _check_tag(ctx, targets[1])
    elif verb in ("save", "export") and not parsed.values("--output"):
        raise _Refuse(f"`docker {verb}` without `-o` writes an archive to the screen: not in this prompt")
    out = ["docker", *head, *args]
    if ctx.workshop and verb == "ps":
        out = ["docker", *head, f"--filter=label={tl.SEAT}={ctx.seat}", *args]
        ctx.notes.append("this seat's containers only: the engine is shared with other seats")
    streaming = verb in _STREAMING
    if verb == "stats":
        streaming = not parsed.has("--no-stream")
    elif verb == "logs":
        streaming = parsed.has("--follow")
    elif verb == "start":
        streaming = parsed.has("--attach")
    return Allowed(tuple(out), tuple(ctx.notes), STREAMING_TIMEOUT if streaming else COMMAND_TIMEOUT)


def _verb(words: list[str]) -> tuple[str, list[str], list[str]]:
    """(canonical verb, the words naming it, the rest): ``container ls -a`` -> ("ps", [container, ls], [-a])."""
    first = words[0]
    if first in ("container", "image", "buildx", "builder") and len(words) > 1 and not words[1].startswith("-"):
        sub = words[1]
        canonical = _MANAGEMENT[first].get(sub, f"{first} {sub}")
        return canonical, words[:2], words[2:]
    if (
        first in ("system", "network", "volume", "context", "plugin")
        and len(words) > 1
        and not words[1].startswith("-")
    ):
        return f"{first} {words[1]}", words[:2], words[2:]
    return first, words[:1], words[1:]


def decide(
    line: str,
    rules: PromptRules,
    cwd: Path,
    owners: Owners | None = None,
    lesson: str | None = None,
    read_text: Callable[[Path], str] | None = None,
) -> Decision | None:
    """What to run for ``line`` typed at the prompt (None for a blank line)."""
    if not line.strip():
        return None
    ctx = _Context(
        rules, Path(cwd), owners or NoOwners(), lesson, read_text or (lambda p: p.read_text("utf-8", "replace"))
    )
    try:
        return _decide(ctx, split_line(line))
    except _Refuse as refused:
        return Refused(refused.reason)


def _decide(ctx: _Context, words: list[str]) -> Decision:
    if not words:
        raise _Refuse("type a docker command, e.g. `docker images`")
    first = words[0]
    if first == "sudo":
        raise _Refuse("no `sudo` here: docker commands run as they are (`docker ps`)")
    if _ASSIGNMENT.match(first):
        raise _Refuse(
            f"`{first.split('=')[0]}=...` sets a shell variable: this prompt always talks to this seat's engine"
        )
    if first in ("curl", "wget"):
        raise _Refuse(
            f"`{first}` is not a docker command: to ask a container's server for a page, use the lesson's Probe (p) "
            "with the container selected in its Containers tab"
        )
    if first in DOCKER_WORDS:
        words = words[1:]
    elif first.startswith("docker-") or first not in _KNOWN_VERBS:
        raise _Refuse(f"only docker commands run here, and `{first}` is not one: try `docker images` or `docker ps -a`")
    globals_: list[str] = []
    while words and words[0].startswith("-"):
        name, eq, _ = words[0].partition("=")
        takes = _GLOBAL.get(name)
        if takes is None:
            raise _Refuse(f"`{name}` is not an option of docker itself: `docker --help` lists them")
        if ctx.workshop and name in _GLOBAL_REFUSED:
            raise _Refuse(_GLOBAL_REFUSED[name])
        step = 2 if takes and not eq else 1
        globals_.extend(words[:step])
        words = words[step:]
    if not words:
        return Allowed(("docker", *globals_))
    verb, head, args = _verb(words)
    head = [*globals_, *head]
    if ctx.workshop:
        root = verb.split()[0]
        if verb not in _WORKSHOP_VERBS:
            reason = _WORKSHOP_VERB_REASONS.get(verb) or _WORKSHOP_VERB_REASONS.get(root)
            raise _Refuse(reason or f"`docker {verb}` is not part of the course at this seat")
    if verb in ("run", "create"):
        return _decide_run(ctx, verb, head, args)
    if verb == "exec":
        return _decide_exec(ctx, head, args)
    if verb == "build":
        return _decide_build(ctx, head, args)
    if verb == "attach":
        raise _Refuse("`docker attach` needs a terminal, which this prompt is not: use `docker logs -f NAME`")
    return _decide_other(ctx, verb, head, args)
