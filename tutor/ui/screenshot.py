"""The palette's Screenshot: an SVG of the screen, saved in a folder the tutor names and creates."""

from __future__ import annotations

import re
import time
from pathlib import Path

from tutor import paths


def screenshots_dir() -> Path:
    """Beside the learner's other tutor files (TUTOR_HOME moves it with them)."""
    return paths.data_dir() / "screenshots"


def screenshot_name(title: str, now: float | None = None) -> str:
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S", time.localtime(now))
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower() or "tutor"
    return f"{slug}_{stamp}.svg"


def save_svg(svg: str, folder: Path, name: str) -> Path:
    """Write ``svg`` to ``folder/name``, creating the folder; OSError says why it could not."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.write_text(svg, encoding="utf-8")
    return target
