"""The course's base images: are they here, and pulling them.

The lessons build ``FROM golang:1.24-alpine`` and ``FROM alpine:latest`` (declared once, in
``course_images.py``). ``status`` says whether each is present, an offline stand-in or missing;
``pull`` pulls them and never lets a failed pull replace a copy already here. Where no registry is
reachable, ``standins.py`` makes offline stand-ins under the real names.

Engine layer: never imports Textual.  Progress is yielded as plain lines so the
CLI can print them and the TUI can stream them into a log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from docker.errors import DockerException, ImageNotFound
from docker.utils import parse_repository_tag
from requests.exceptions import RequestException

from tutor.engine import labels
from tutor.engine.course_images import COURSE_BASE_IMAGES
from tutor.engine.image_size import image_size, image_store


@dataclass(frozen=True)
class BaseImageStatus:
    name: str  # "golang:1.24-alpine"
    state: str  # "present" | "stand-in" | "missing"
    image_id: str | None
    size: int | None  # bytes
    note: str  # "offline stand-in: busybox + Go 1.24.11 toolchain", or ""


class PullFailed(Exception):
    """Some base images could not be pulled; ``names`` lists them."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(f"could not pull {', '.join(names)}")
        self.names = list(names)


# --------------------------------------------------------------------------- status


def _inspect(api, name: str) -> dict | None:
    try:
        return api.inspect_image(name)
    except ImageNotFound:
        return None


def _classify(name: str, inspect: dict | None, size: int | None = None) -> BaseImageStatus:
    """One image's state from its ``inspect_image`` dict (None: not on the engine); ``size``: the
    tutor's size of it (tutor.engine.image_size), else inspect's, which is the same on the classic store."""
    if inspect is None:
        return BaseImageStatus(name, "missing", None, None, "")
    image_id = inspect.get("Id")
    size = size if size is not None else inspect.get("Size")
    image_labels = (inspect.get("Config") or {}).get("Labels") or {}
    standin_for = image_labels.get(labels.STANDIN)
    if standin_for is None:
        return BaseImageStatus(name, "present", image_id, size, "")
    note = image_labels.get(labels.STANDIN_NOTE) or "offline stand-in"
    if standin_for != name:
        # Someone re-tagged a stand-in: still not the real thing, say what it was made for.
        note = f"{note} (made for {standin_for})"
    return BaseImageStatus(name, "stand-in", image_id, size, note)


def status(api, names: Iterable[str] = COURSE_BASE_IMAGES) -> list[BaseImageStatus]:
    """Whether each base image is on the engine, and whether it is real or a stand-in."""
    containerd = image_store(api) == "containerd"
    found = []
    for name in names:
        inspect = _inspect(api, name)
        size = None
        if containerd and inspect is not None:
            try:
                size = image_size(api, name)
            except Exception:  # noqa: BLE001 - gone since the inspect: inspect's figure will do
                size = None
        found.append(_classify(name, inspect, size))
    return found


def missing(statuses: Iterable[BaseImageStatus]) -> list[str]:
    """Names of the images that are on the engine in neither form."""
    return [s.name for s in statuses if s.state == "missing"]


# --------------------------------------------------------------------------- pull


class _StreamError(Exception):
    """An ``{"error": ...}`` object inside an otherwise successful HTTP stream."""


def _error_text(exc: BaseException) -> str:
    explanation = getattr(exc, "explanation", None)
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", "replace")
    return str(explanation or exc)


def _short_reason(text: str) -> str:
    """The engine's pull error, boiled down to what a learner can act on."""
    low = text.lower()
    host = re.search(r"lookup ([^\s:]+)", text)
    if "no such host" in low or "server misbehaving" in low or "temporary failure in name resolution" in low:
        where = f"cannot resolve {host.group(1)}" if host else "name resolution failed"
        return f"no registry reachable ({where})"
    if "network is unreachable" in low:
        return "no registry reachable (network unreachable)"
    if "connection refused" in low:
        return "no registry reachable (connection refused)"
    if "timeout" in low or "timed out" in low:
        return "no registry reachable (timed out)"
    if "toomanyrequests" in low or "rate limit" in low:
        return "the registry's pull rate limit was hit; try again later"
    if "manifest unknown" in low or "not found" in low:
        return "the registry has no such image"
    if "unauthorized" in low or "denied" in low:
        return "the registry refused access"
    first = (text.strip().splitlines() or ["unknown error"])[0]
    return first if len(first) <= 120 else first[:117] + "..."


# Per-layer byte counters would flood a log; the step changes are the story.
_CHATTY = {"Downloading", "Extracting", "Waiting", "Verifying Checksum"}


def _pull_line(name: str, event: dict) -> str | None:
    text = event.get("status")
    if not text or text in _CHATTY:
        return None
    layer = event.get("id")
    return f"{name}: {layer}: {text}" if layer else f"{name}: {text}"


def _remove_quietly(api, image_id: str) -> bool:
    """Remove an image if nothing uses it; False when the engine refused."""
    try:
        api.remove_image(image_id)
        return True
    except (DockerException, RequestException):
        return False


def pull(api, names: Iterable[str] = COURSE_BASE_IMAGES) -> Iterator[str]:
    """Pull each image, yielding progress lines; PullFailed at the end if any failed.

    Every failure becomes one readable line (never a requests traceback), so a
    room without internet learns at once that ``tutor images stand-in`` is the way.
    """
    failed: list[str] = []
    for name in names:
        repo, tag = parse_repository_tag(name)
        before = _classify(name, _inspect_or_none(api, name))
        yield f"pulling {name} ..."
        try:
            last = None
            for event in api.pull(repo, tag=tag or "latest", stream=True, decode=True):
                if event.get("error"):
                    raise _StreamError(event["error"])
                line = _pull_line(name, event)
                if line and line != last:
                    last = line
                    yield line
        except (_StreamError, DockerException) as exc:
            # The engine answered: the reason is the registry's (or the network's).
            reason = _short_reason(_error_text(exc))
        except (RequestException, OSError) as exc:
            # No answer at all: the engine itself went away mid-pull.
            reason = f"the Docker engine stopped answering ({type(exc).__name__})"
        else:
            reason = ""
        if reason:
            failed.append(name)
            yield f"cannot pull {name}: {reason}; {_fallback(before)}"
            continue
        yield f"{name}: pulled"
        # The stand-in just lost its tag; drop it unless something was built on it.
        if before.state == "stand-in" and before.image_id:
            after = _inspect_or_none(api, name)
            if after and after.get("Id") != before.image_id and _remove_quietly(api, before.image_id):
                yield f"{name}: removed the offline stand-in it replaces"
    if failed:
        raise PullFailed(failed)


def _fallback(before: BaseImageStatus) -> str:
    """What the learner can do instead, given what the engine already holds."""
    if before.state == "stand-in":
        return "the offline stand-in already here stays in use"
    if before.state == "present":
        return "the copy already here stays in use"
    return "`tutor images stand-in` builds an offline stand-in"


def _inspect_or_none(api, name: str) -> dict | None:
    # pull() must not die on an engine hiccup before it has even tried.
    try:
        return _inspect(api, name)
    except (DockerException, RequestException, OSError):
        return None


__all__ = [
    "COURSE_BASE_IMAGES",
    "BaseImageStatus",
    "PullFailed",
    "missing",
    "pull",
    "status",
]
