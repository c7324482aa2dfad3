"""Every path the tutor reads or writes, in one place.

User paths come from platformdirs; ``TUTOR_HOME`` moves all of them under one
folder (tests, kiosk seats and browser seats use it to stay apart).  Shipped
course files live in ``tutor/_data`` inside a wheel and at the repository root
in a source checkout.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from platformdirs import PlatformDirs

_PACKAGE_DIR = Path(__file__).resolve().parent
_DIRS = PlatformDirs("tutor", appauthor=False)
_SEAT_RE = re.compile(r"[^a-z0-9_.-]+")


ENV_HOME = "TUTOR_HOME"


def _home() -> Path | None:
    value = os.environ.get(ENV_HOME)
    return Path(value).expanduser() if value else None


def clean_seat_name(raw: str) -> str:
    """``raw`` made safe for labels and tags (``local`` when nothing is left)."""
    raw = raw.strip().lower() or "local"
    return _SEAT_RE.sub("-", raw)[:40].strip("-.") or "local"


def seat_name() -> str:
    """The seat this process serves: ``TUTOR_SEAT`` or ``local``, safe for labels and tags."""
    return clean_seat_name(os.environ.get("TUTOR_SEAT", "local"))


def data_dir(home: Path | None = None) -> Path:
    """``home`` (a seat's TUTOR_HOME) or this process's; the platform's folder without one."""
    home = home if home is not None else _home()
    return home / "data" if home else Path(_DIRS.user_data_dir)


def config_dir() -> Path:
    home = _home()
    return home / "config" if home else Path(_DIRS.user_config_dir)


def cache_dir() -> Path:
    home = _home()
    return home / "cache" if home else Path(_DIRS.user_cache_dir)


def seat_dir(seat: str | None = None, home: Path | None = None) -> Path:
    return data_dir(home) / "seats" / (seat or seat_name())


def workspace_dir(seat: str | None = None, home: Path | None = None) -> Path:
    """Where the learner's copies of exercise files live."""
    return seat_dir(seat, home) / "workspace"


def progress_file(seat: str | None = None, home: Path | None = None) -> Path:
    return seat_dir(seat, home) / "progress.json"


def build_records_dir(seat: str | None = None) -> Path:
    """Previous builds, kept to explain the next build's cache misses."""
    return seat_dir(seat) / "builds"


def backups_dir(seat: str | None = None) -> Path:
    """Copies of the learner's files replaced by a solution: outside the workspace, so never built."""
    return seat_dir(seat) / "backups"


def config_file() -> Path:
    return config_dir() / "config.toml"


def _shipped(name: str) -> Path:
    packaged = _PACKAGE_DIR / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / name


def shipped_lessons() -> Path:
    """The course that ships with the tutor."""
    return _shipped("lessons")


def shipped_go_app() -> Path:
    """The sample Go app and its Dockerfiles."""
    return _shipped("go_app")
