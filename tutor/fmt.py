"""Small formatting helpers shared by the CLI and the UI (pure)."""

from __future__ import annotations


def size(num: int | None) -> str:
    """Bytes in decimal units, as `docker images` prints them (1 MB = 1,000,000 B)."""
    if num is None:
        return "?"
    if num < 1000:
        return f"{num} B"
    value = float(num)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000.0
        if value < 1000 or unit == "TB":
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return f"{num} B"  # unreachable


def seconds(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f}s" if value < 60 else f"{int(value // 60)}m{value % 60:04.1f}s"


def ellipsize(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def context_progress(phase: str, files: int, sent: int, total: int | None) -> str:
    """What the engine has received of the build context so far."""
    if phase == "packing":
        return f"packing the build context: {files:,} files…"
    if not total:  # BuildKit's own transfer (buildx) says how much went, not how much will
        return f"sending the build context: {size(sent)}…"
    percent = f" ({min(100, 100 * sent // total)}%)"
    return f"sending the build context: {size(sent)} of {size(total)}{percent}…"


def engine_label(url: str) -> str:
    """A short name for an engine URL, for the status line: `local`, `local /path.sock`, or `host:port`."""
    from urllib.parse import urlparse

    parsed = urlparse(url)
    if parsed.scheme == "unix":
        # The usual socket is just "local"; another one is named, so a seat shows which engine it uses.
        return "local" if parsed.path in ("/var/run/docker.sock", "/run/docker.sock") else f"local {parsed.path}"
    return f"{parsed.hostname}:{parsed.port}" if parsed.hostname else url


def store_figures(disk: int, content: int) -> str:
    """The containerd store's two `docker images` figures, beside the tutor's own (its layers unpacked)."""
    return f"docker images: {size(disk)} disk usage, {size(content)} content; the tutor counts the layers unpacked"
