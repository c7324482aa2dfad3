"""What a seat's builds may start from, and which host ports its containers may publish.

Seats share one engine, so an image tag is all that stands between one seat and another's files:
``FROM tutor/<another seat>/go_app`` (or ``COPY --from=`` it) would print that seat's work.

- Every seat, everywhere: a build never starts from another seat's images (``tutor/<seat>/...``
  tags, images labelled with another seat, the step images another seat's builds produced).
- A workshop seat (a kiosk, a browser seat: ``TUTOR_SEAT_RULES=kiosk`` in the environment the
  process serving it was started with, ``Seat.environment``):
  a build starts only from the course's base images, the stages of the same Dockerfile and the
  seat's own images; and every container publishes on 127.0.0.1 only, on a host port of the seat's
  range (``TUTOR_SEAT_PORTS=low-high``).
- A learner's own machine (no rules set) may build FROM anything else.

The Dockerfile is read the way the classic builder reads it (escape directive, continuation lines
joined without a space, comment lines inside them dropped, ``ARG`` defaults before the first
``FROM`` substituted, ``ONBUILD`` instructions checked too), so a reference cannot hide from the
check in a form the engine would still accept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from tutor.engine import labels as tl
from tutor.engine.baseimages import COURSE_BASE_IMAGES
from tutor.seat import ENV_PORTS, ENV_RULES, ENV_SEAT, workshop_rules  # noqa: F401 - the variables' names, for tests
from tutor.seat import port_range_setting as seat_port_range

LOOPBACK = "127.0.0.1"





# --------------------------------------------------------------------------- ports


class PortRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_publish(ports: Mapping[int, int], bind_host: str, port_range: tuple[int, int] | None = None) -> None:
    """Raise PortRefused unless every published port lies in the seat's range, on 127.0.0.1.

    Applies at a workshop seat (or whenever a range is given or set); elsewhere nothing is refused.
    """
    port_range = port_range or seat_port_range()
    if port_range is None and not workshop_rules():
        return
    if ports and (bind_host or "0.0.0.0") != LOOPBACK:
        raise PortRefused(
            f"this seat publishes containers on {LOOPBACK} only, not on {bind_host or '0.0.0.0'}: "
            f"use -p {LOOPBACK}:HOST:CONTAINER"
            + (f" with a host port from {port_range[0]}-{port_range[1]}" if port_range else "")
        )
    if port_range is None:
        return
    low, high = port_range
    for host_port in ports:
        if not low <= int(host_port) <= high:
            raise PortRefused(
                f"host port {host_port} is outside this seat's port range {low}-{high}: "
                f"publish on a port from {low} to {high} (e.g. -p {low}:{ports[host_port]})"
            )


# --------------------------------------------------------------------------- build sources


@dataclass(frozen=True)
class Refusal:
    message: str
    line: int
    fix: str


@dataclass(frozen=True)
class ImageSource:
    line: int  # 1-based first line of the instruction
    what: str  # "FROM", "COPY --from", "RUN --mount from" (prefixed "ONBUILD " when in one)
    ref: str  # as written, variables substituted


_DIRECTIVE_RE = re.compile(r"^\s*#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(\S*)\s*$")
_VAR_RE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line, instruction) as the classic builder joins them."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    escape = "\\"
    for raw in lines:  # parser directives: only at the very top
        m = _DIRECTIVE_RE.match(raw)
        if not m:
            break
        if m.group(1).lower() == "escape" and m.group(2) in ("\\", "`"):
            escape = m.group(2)
    continuation = re.compile(re.escape(escape) + r"[ \t]*$")
    buf: list[str] = []
    start = 0
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # empty and comment lines, also inside a continuation
        if not buf:
            start = number
        m = continuation.search(raw)
        if m:
            buf.append(raw[: m.start()])
            continue
        buf.append(raw)
        yield start, "".join(buf)
        buf = []
    if buf:
        yield start, "".join(buf)


def _expand(word: str, env: Mapping[str, str]) -> str:
    def one(m: re.Match) -> str:
        name = m.group(1) or m.group(4)
        value = env.get(name)
        op, arg = m.group(2), m.group(3) or ""
        if op in ("-", ":-"):
            return value if value else (arg if op == ":-" or value is None else value)
        if op in ("+", ":+"):
            return arg if value else ""
        return value or ""

    for _ in range(3):  # a default may hold another variable
        new = _VAR_RE.sub(one, word)
        if new == word:
            break
        word = new
    return word


def _split_keyword(instruction: str) -> tuple[str, str]:
    parts = instruction.strip().split(None, 1)
    return (parts[0].upper(), parts[1] if len(parts) > 1 else "") if parts else ("", "")


def _assignments(rest: str) -> dict[str, str]:
    """``ARG a=1 b`` / ``ENV a=1 b=2`` / ``ENV a 1``: the values they give (quotes removed)."""
    found: dict[str, str] = {}
    try:
        import shlex

        words = shlex.split(rest, posix=True)
    except ValueError:
        words = rest.split()
    if len(words) >= 2 and "=" not in words[0]:  # legacy ENV key value
        return {words[0]: " ".join(words[1:])}
    for word in words:
        key, eq, value = word.partition("=")
        if eq:
            found[key] = value  # an ARG without a default sets nothing
    return found


def image_sources(text: str) -> tuple[list[ImageSource], list[int]]:
    """Every image a Dockerfile reads from (stages of the same file left out).

    Returns (sources, lines with a reference that still holds a variable after substitution).
    """
    sources: list[ImageSource] = []
    unresolved: list[int] = []
    meta: dict[str, str] = {}  # ARG defaults before the first FROM
    stage_env: dict[str, str] = {}
    stages: list[str] = []  # lower-case stage names ("" when unnamed), in order
    seen_from = False

    def reference(line: int, what: str, ref: str, env: Mapping[str, str]) -> None:
        value = _expand(ref, env).strip().strip("\"'")
        if "$" in value:
            unresolved.append(line)
        low = value.lower()
        if low in stages and low:
            return
        if what.endswith("--from") or what.endswith("from"):
            if low.isdigit() and int(low) < len(stages):
                return
        sources.append(ImageSource(line, what, value))

    def dispatch(line: int, instruction: str, prefix: str = "") -> None:
        nonlocal seen_from, stage_env
        keyword, rest = _split_keyword(instruction)
        if keyword == "ONBUILD":
            dispatch(line, rest, "ONBUILD ")
            return
        if keyword == "ARG" and not prefix:
            if not seen_from:
                meta.update(_assignments(rest))
            else:
                stage_env.update({k: v for k, v in _assignments(rest).items()})
                for key in rest.split():
                    name = key.split("=", 1)[0]
                    if "=" not in key and name in meta:
                        stage_env[name] = meta[name]  # `ARG NAME` re-declares a global one
            return
        if keyword == "ENV" and not prefix:
            stage_env.update(_assignments(rest))
            return
        words = rest.split()
        flags = []
        while words and words[0].startswith("--"):
            flags.append(words.pop(0))
        if keyword == "FROM" and not prefix:
            seen_from = True
            ref = words[0] if words else ""
            if ref:
                reference(line, "FROM", ref, meta)
            name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else ""
            stages.append(_expand(name, meta))
            stage_env = {}
            return
        env = {**meta, **stage_env}
        for flag in flags:
            key, _, value = flag[2:].partition("=")
            key = key.lower()
            if keyword in ("COPY", "ADD") and key == "from":
                reference(line, f"{prefix}{keyword} --from", value, env)
            elif keyword == "RUN" and key == "mount":
                for part in value.split(","):
                    k, _, v = part.partition("=")
                    if k.strip().lower() == "from":
                        reference(line, f"{prefix}RUN --mount from", v, env)
        if keyword == "FROM":  # ONBUILD FROM: the engine refuses it; check it anyway
            if words:
                reference(line, f"{prefix}FROM", words[0], env)

    for line, instruction in _logical_lines(text):
        dispatch(line, instruction)
    return sources, unresolved


def normalize(ref: str) -> str:
    """``docker.io/library/alpine`` -> ``alpine:latest``; lower case, with a tag unless a digest."""
    ref = ref.strip().lower()
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        if ref.startswith(prefix):
            ref = ref[len(prefix):]
            break
    if ref.startswith("library/"):
        ref = ref[len("library/"):]
    if "@" not in ref and ":" not in ref.rsplit("/", 1)[-1]:
        ref += ":latest"
    return ref


def _tutor_seat_of(ref: str) -> str | None:
    """The seat of a ``tutor/<seat>/...`` reference, or None."""
    parts = normalize(ref).split("/")
    if len(parts) >= 3 and parts[0] == "tutor":
        return parts[1]
    return None


def _allowed_text(seat: str) -> str:
    bases = ", ".join(COURSE_BASE_IMAGES)
    return (
        f"the course's base images ({bases}), `scratch`, the stages of this Dockerfile "
        f"(FROM ... AS builder, then FROM builder / COPY --from=builder) and this seat's own images (tutor/{seat}/...)"
    )


def _engine_owner(api, ref: str, seat: str) -> str | None:
    """Another seat owning the image ``ref`` names on the engine (label, tag or ledger), or None."""
    if api is None:
        return None
    try:
        data = api.inspect_image(ref)
    except Exception:  # noqa: BLE001 - not on the engine: the build fails on its own
        return None
    owner = ((data.get("Config") or {}).get("Labels") or {}).get(tl.SEAT)
    if owner and owner != seat:
        return owner
    for tag in data.get("RepoTags") or ():
        other = _tutor_seat_of(tag)
        if other and other != seat:
            return other
    from tutor.engine import ledger

    tagged = [t for t in data.get("RepoTags") or () if t != "<none>:<none>"]
    short = str(data.get("Id", "")).split(":", 1)[-1][:12]
    if short and not tagged and (not seat or short not in ledger.recorded(seat)):  # another seat's step image
        for other in ledger.seats():
            if other != seat and short in ledger.recorded(other):
                return other
    return None


def check_build_sources(text: str, seat: str, api=None, strict: bool | None = None) -> Refusal | None:
    """The first image this Dockerfile may not read at ``seat``, as a Refusal; None when all may.

    ``strict`` (default: this process serves a workshop seat) allows only the course's base
    images, the file's own stages and the seat's images; otherwise anything but another seat's
    images (known by tag, or, with ``api``, by the engine's labels and the seats' ledgers).
    """
    strict = workshop_rules() if strict is None else strict
    sources, unresolved = image_sources(text)
    allowed = _allowed_text(seat)
    bases = {normalize(b) for b in COURSE_BASE_IMAGES}
    if strict and unresolved:
        line = unresolved[0]
        return Refusal(
            f"line {line}: this image reference holds a variable without a default: at this seat a build may "
            f"start only from {allowed}",
            line,
            "write the image name itself on the line",
        )
    for source in sources:
        ref = source.ref
        label = f"line {source.line}: {source.what} {ref}"
        other = _tutor_seat_of(ref)
        if other is not None and other != seat:
            return Refusal(
                f"{label} reads another seat's image (seat {other}): a build may start only from {allowed}",
                source.line,
                f"build from a base image or from one of your own images (tutor/{seat}/...)",
            )
        if strict:
            if ref.strip().lower() == "scratch" and source.what.endswith("FROM"):
                continue
            if normalize(ref) in bases or other == seat:
                continue
            return Refusal(
                f"{label} is not allowed at this seat: a build may start only from {allowed}",
                source.line,
                f"start from one of {', '.join(COURSE_BASE_IMAGES)} (or a stage of this Dockerfile)",
            )
        owner = _engine_owner(api, ref, seat)
        if owner is not None:
            return Refusal(
                f"{label} is another seat's image (seat {owner}): a build may never start from another seat's images",
                source.line,
                f"build from a base image or from one of your own images (tutor/{seat}/...)",
            )
    return None


def refused_build(dockerfile, seat: str | None, engine: str | None = None):
    """A BuildFailed for a Dockerfile that reads an image this seat may not use, or None.

    Called by every build (``tutor.engine.build.Build.events``) before anything is sent.
    """
    from pathlib import Path

    from tutor.engine.events import BuildFailed

    try:
        text = Path(dockerfile).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None  # packing the context reports an unreadable Dockerfile with its path
    # No seat label: a build that owns no seat's images, so it may read none of them.
    seat = seat or ""

    class _LazyEngine:
        """The engine is asked only when a reference needs it (and its absence refuses nothing)."""

        api = None

        def inspect_image(self, ref):
            if self.api is None:
                from tutor.engine.client import thread_client

                self.api = thread_client(engine)
            return self.api.inspect_image(ref)

    refusal = check_build_sources(text, seat, api=_LazyEngine())
    if refusal is None:
        return None
    return BuildFailed(refusal.message, line=refusal.line, fix=refusal.fix)
