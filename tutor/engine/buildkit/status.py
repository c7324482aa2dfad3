"""BuildKit's progress messages (``SolveStatus``), read from either source into one shape.

buildx ``--progress=rawjson`` prints them as JSON objects; the engine's ``POST /build?version=2``
sends them as base64 protobuf ``StatusResponse`` (``status.proto``, decoded with the protobuf
package from descriptors built at import).  Both become a :class:`SolveStatus`.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

PROTO = Path(__file__).with_name("status.proto")


@dataclass(frozen=True)
class Vertex:
    digest: str
    name: str
    inputs: tuple[str, ...] = ()
    cached: bool = False
    started: float | None = None  # seconds since the epoch, as the engine timed it
    completed: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class VertexLog:
    vertex: str
    data: bytes
    stream: int = 1  # 1 stdout, 2 stderr


@dataclass(frozen=True)
class VertexWarning:
    vertex: str
    short: str
    detail: tuple[str, ...] = ()


@dataclass(frozen=True)
class VertexStatus:
    """Progress of one piece of a vertex's work, e.g. ``transferring context:`` and its bytes."""

    id: str
    vertex: str = ""  # the digest of the vertex it belongs to
    current: int = 0
    total: int | None = None
    completed: bool = False


@dataclass(frozen=True)
class SolveStatus:
    vertexes: tuple[Vertex, ...] = ()
    logs: tuple[VertexLog, ...] = ()
    warnings: tuple[VertexWarning, ...] = ()
    statuses: tuple[VertexStatus, ...] = ()


# -- rawjson (buildx) ---------------------------------------------------------------------------

_RFC3339_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def parse_time(text: Any) -> float | None:
    """RFC 3339 with up to nanoseconds (Go's format) -> seconds since the epoch."""
    if not isinstance(text, str):
        return None
    m = _RFC3339_RE.match(text.strip())
    if not m:
        return None
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    try:
        whole = datetime.fromisoformat(m.group(1) + zone)
    except ValueError:
        return None
    fraction = float("0." + m.group(2)) if m.group(2) else 0.0
    return whole.timestamp() + fraction


def _b64(text: Any) -> bytes:
    if not isinstance(text, str):
        return b""
    try:
        return base64.b64decode(text)
    except (binascii.Error, ValueError):
        return b""


def from_rawjson(obj: Any) -> SolveStatus:
    """One object buildx printed with ``--progress=rawjson``; anything unexpected is skipped."""
    if not isinstance(obj, dict):
        return SolveStatus()
    vertexes = []
    for v in obj.get("vertexes") or ():
        if isinstance(v, dict) and isinstance(v.get("digest"), str):
            vertexes.append(
                Vertex(
                    digest=v["digest"],
                    name=str(v.get("name") or ""),
                    inputs=tuple(str(i) for i in v.get("inputs") or ()),
                    cached=bool(v.get("cached")),
                    started=parse_time(v.get("started")),
                    completed=parse_time(v.get("completed")),
                    error=str(v["error"]) if v.get("error") else None,
                )
            )
    logs = tuple(
        VertexLog(str(entry.get("vertex") or ""), _b64(entry.get("data")), int(entry.get("stream") or 1))
        for entry in obj.get("logs") or ()
        if isinstance(entry, dict)
    )
    warnings = tuple(
        VertexWarning(
            str(w.get("vertex") or ""),
            _b64(w.get("short")).decode("utf-8", "replace"),
            tuple(_b64(d).decode("utf-8", "replace") for d in w.get("detail") or ()),
        )
        for w in obj.get("warnings") or ()
        if isinstance(w, dict)
    )
    statuses = tuple(
        VertexStatus(
            str(st.get("id") or ""),
            str(st.get("vertex") or ""),
            _count(st.get("current")),
            _count(st.get("total")) or None,
            st.get("completed") is not None,
        )
        for st in obj.get("statuses") or ()
        if isinstance(st, dict)
    )
    return SolveStatus(tuple(vertexes), logs, warnings, statuses)


def _count(value: Any) -> int:
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError):
        return 0


# -- the API trace (protobuf) -------------------------------------------------------------------

_MESSAGE_RE = re.compile(r"message\s+(\w+)\s*\{([^}]*)\}", re.S)
_FIELD_RE = re.compile(r"^\s*(repeated\s+)?(\w+)\s+(\w+)\s*=\s*(\d+)\s*;", re.M)
_COMMENT_RE = re.compile(r"//[^\n]*")


@lru_cache(maxsize=1)
def _status_response_class() -> Any:
    """The StatusResponse message class, built from ``status.proto`` (flat messages, scalar fields)."""
    from google.protobuf import descriptor_pb2, descriptor_pool

    text = _COMMENT_RE.sub("", PROTO.read_text(encoding="utf-8"))
    package = re.search(r"^\s*package\s+([\w.]+)\s*;", text, re.M).group(1)  # type: ignore[union-attr]  # our own .proto, which names its package
    F = descriptor_pb2.FieldDescriptorProto
    scalars = {"string": F.TYPE_STRING, "bytes": F.TYPE_BYTES, "bool": F.TYPE_BOOL, "int64": F.TYPE_INT64, "int32": F.TYPE_INT32}
    file = descriptor_pb2.FileDescriptorProto(name="tutor_buildkit_status.proto", package=package, syntax="proto3")
    for name, body in _MESSAGE_RE.findall(text):
        message = file.message_type.add(name=name)
        for repeated, kind, field_name, number in _FIELD_RE.findall(body):
            field = message.field.add(
                name=field_name,
                number=int(number),
                label=F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL,
            )
            if kind in scalars:
                field.type = scalars[kind]
            else:
                field.type = F.TYPE_MESSAGE
                field.type_name = f".{package}.{kind}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    descriptor = pool.FindMessageTypeByName(f"{package}.StatusResponse")
    try:
        from google.protobuf.message_factory import GetMessageClass

        return GetMessageClass(descriptor)
    except ImportError:  # protobuf before 4.21.x
        from google.protobuf.message_factory import MessageFactory

        return MessageFactory(pool).GetPrototype(descriptor)


def _ts(message: Any, field: str) -> float | None:
    if not message.HasField(field):
        return None
    stamp = getattr(message, field)
    return stamp.seconds + stamp.nanos / 1e9


class TraceError(ValueError):
    """The engine's trace message cannot be decoded."""


def from_trace(aux: Any) -> SolveStatus:
    """The ``aux`` of a ``moby.buildkit.trace`` message: base64 protobuf StatusResponse."""
    from google.protobuf.message import DecodeError

    if not isinstance(aux, str):
        raise TraceError("a BuildKit trace without data")
    try:
        raw = base64.b64decode(aux)
        message = _status_response_class()()
        message.ParseFromString(raw)
    except (binascii.Error, ValueError, DecodeError) as exc:
        raise TraceError(f"an undecodable BuildKit trace: {exc}") from exc
    vertexes = tuple(
        Vertex(
            digest=v.digest,
            name=v.name,
            inputs=tuple(v.inputs),
            cached=v.cached,
            started=_ts(v, "started"),
            completed=_ts(v, "completed"),
            error=v.error or None,
        )
        for v in message.vertexes
    )
    logs = tuple(VertexLog(entry.vertex, bytes(entry.msg), int(entry.stream) or 1) for entry in message.logs)
    warnings = tuple(
        VertexWarning(w.vertex, bytes(w.short).decode("utf-8", "replace"), tuple(bytes(d).decode("utf-8", "replace") for d in w.detail))
        for w in message.warnings
    )
    return SolveStatus(vertexes, logs, warnings)


