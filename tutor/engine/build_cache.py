"""BuildKit's build cache on an engine: what it holds, for `tutor clean` to say.

Its records carry no labels (BuildKit gives them none), and every build on the engine shares
them, the learner's own included: the tutor reports the cache and says how to empty it, and
never prunes it on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BuildCacheUsage:
    records: int
    bytes: int  # every record's size
    mounts: int  # bytes in cache mounts (`RUN --mount=type=cache`)


def build_cache_usage(api: Any) -> BuildCacheUsage | None:
    """The engine's BuildKit cache (`docker buildx du`), or None when it cannot say (an engine
    older than API 1.42 answers without the type filter; any error: nothing to report)."""
    try:
        response = api._get(api._url("/system/df"), params={"type": "build-cache"})
        data = api._result(response, json=True)
    except Exception:  # noqa: BLE001 - a report, not worth a failure
        return None
    records = data.get("BuildCache") if isinstance(data, dict) else None
    if not isinstance(records, list):
        return None
    sizes = [(str(r.get("Type") or ""), max(int(r.get("Size") or 0), 0)) for r in records if isinstance(r, dict)]
    return BuildCacheUsage(
        records=len(sizes),
        bytes=sum(size for _, size in sizes),
        mounts=sum(size for kind, size in sizes if kind == "exec.cachemount"),
    )
