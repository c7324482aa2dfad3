"""The kiosk configuration: one TOML file per seat (or one for a whole room).

Example (docs/kiosk-example.toml)::

    seat = "room-a-01"
    pin_hash = "scrypt$16384$8$1$...$..."   # from `tutor kiosk hash-pin`
    lessons = "all"                          # or ["meet-the-app", "layers"]
    idle_timeout_minutes = 20                # 0: never
    export_dir = "/srv/tutor-exports"
    port_range = [18100, 18199]
    engine = "unix:///var/run/docker.sock"   # optional
    course = "/srv/course"                   # optional: a lessons folder
    builder = "auto"                         # optional: auto (default), buildkit or classic

The instructor PIN is only ever stored hashed (scrypt, or PBKDF2 where the
Python build has no scrypt), with a random salt per hash.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import hmac
import re
import secrets
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tutor.course.model import Course
from tutor.engine.build import BUILDERS  # as tutor --builder

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_IDLE_MINUTES = 20.0
DEFAULT_PORT_RANGE = (18100, 18199)
MIN_PIN, MAX_PIN = 4, 64
# scrypt: 16 MiB of memory and ~50 ms per check: cheap for one kiosk, costly for a guesser.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
PBKDF2_ITERATIONS = 600_000
KEYS = (
    "seat", "pin_hash", "lessons", "idle_timeout_minutes", "export_dir", "port_range", "engine", "course", "builder"
)
_SEAT_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
_ENGINE_SCHEMES = ("unix://", "tcp://", "ssh://", "npipe://", "http://", "https://")  # as the docker SDK


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file, the setting and the fix."""


@dataclass(frozen=True)
class KioskConfig:
    seat: str
    pin_hash: str
    export_dir: Path
    lessons: tuple[str, ...] | None = None  # None: every lesson of the course, in course order
    idle_timeout: float = DEFAULT_IDLE_MINUTES * 60  # seconds; 0 switches the idle reset off
    port_range: tuple[int, int] = DEFAULT_PORT_RANGE  # inclusive
    engine: str | None = None  # None: DOCKER_HOST, then the active docker context
    course: Path | None = None  # None: the course that ships with the tutor
    builder: str = "auto"  # how the exercises build: auto is what `docker build` uses on that engine
    source: Path | None = None  # the file this came from

    @property
    def ports(self) -> range:
        return range(self.port_range[0], self.port_range[1] + 1)

    def with_engine(self, engine: str | None) -> KioskConfig:
        """The same configuration on another engine (``--engine`` wins over the file)."""
        return replace(self, engine=engine) if engine else self


# -- the PIN ---------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def pin_problem(pin: str) -> str | None:
    """Why ``pin`` cannot be a PIN, or None."""
    if len(pin) < MIN_PIN:
        return f"a PIN needs at least {MIN_PIN} characters"
    if len(pin) > MAX_PIN:
        return f"a PIN has at most {MAX_PIN} characters"
    if any(ch.isspace() for ch in pin):
        return "a PIN cannot contain spaces"
    return None


def _has_scrypt() -> bool:
    return hasattr(hashlib, "scrypt")


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$SALT$HASH`` (base64), or ``pbkdf2_sha256$ITERATIONS$SALT$HASH`` without scrypt."""
    problem = pin_problem(pin)
    if problem:
        raise ValueError(problem)
    salt = salt if salt is not None else secrets.token_bytes(16)
    secret = pin.encode("utf-8")
    if _has_scrypt():
        digest = hashlib.scrypt(secret, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
        return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"
    digest = hashlib.pbkdf2_hmac("sha256", secret, salt, PBKDF2_ITERATIONS, dklen=32)
    return f"pbkdf2_sha256${PBKDF2_ITERATIONS}${_b64(salt)}${_b64(digest)}"


def pin_hash_problem(stored: str) -> str | None:
    """Why ``stored`` is not a hash that ``hash_pin`` makes, or None."""
    parts = stored.split("$")
    try:
        if parts[0] == "scrypt" and len(parts) == 6:
            n, r, p = (int(x) for x in parts[1:4])
            if n < 2 or n & (n - 1) or r < 1 or p < 1:
                return "its scrypt parameters are out of range"
            base64.b64decode(parts[4], validate=True), base64.b64decode(parts[5], validate=True)
            if not _has_scrypt():
                return "this Python has no scrypt: make a new hash here with `tutor kiosk hash-pin`"
            return None
        if parts[0] == "pbkdf2_sha256" and len(parts) == 4:
            if int(parts[1]) < 1:
                return "its iteration count is out of range"
            base64.b64decode(parts[2], validate=True), base64.b64decode(parts[3], validate=True)
            return None
    except ValueError:
        return "it is damaged (a number or a base64 part does not decode)"
    return "it is not a hash made by `tutor kiosk hash-pin` (expected scrypt$... or pbkdf2_sha256$...)"


def verify_pin(pin: str, stored: str) -> bool:
    """True when ``pin`` matches ``stored``; False for a wrong PIN or an unusable hash."""
    if pin_hash_problem(stored) is not None:
        return False
    parts = stored.split("$")
    secret = pin.encode("utf-8")
    if parts[0] == "scrypt":
        n, r, p = (int(x) for x in parts[1:4])
        salt, expected = base64.b64decode(parts[4]), base64.b64decode(parts[5])
        try:
            actual = hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=2**26)
        except ValueError:  # parameters this OpenSSL refuses (memory limit)
            return False
    else:
        salt, expected = base64.b64decode(parts[2]), base64.b64decode(parts[3])
        actual = hashlib.pbkdf2_hmac("sha256", secret, salt, int(parts[1]), dklen=len(expected))
    return hmac.compare_digest(actual, expected)


# -- reading the file -------------------------------------------------------------------------------


def _suggest(key: str) -> str:
    close = difflib.get_close_matches(key, KEYS, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known settings: {', '.join(KEYS)})"


def _path(value: Any, key: str, where: str, base: Path) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key} should be a folder path in quotes, found {value!r}")
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path)


def _lessons(value: Any, where: str) -> tuple[str, ...] | None:
    if value == "all":
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f'{where}: lessons should be "all" or a list of lesson ids, e.g. ["meet-the-app", "layers"]')
    ids = tuple(v.strip() for v in value)
    doubles = sorted({i for i in ids if ids.count(i) > 1})
    if doubles:
        raise ConfigError(f"{where}: lessons names {', '.join(doubles)} more than once")
    return ids


def _port_range(value: Any, where: str) -> tuple[int, int]:
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )
    if not ok:
        raise ConfigError(f"{where}: port_range should be two port numbers, e.g. [18100, 18199], found {value!r}")
    low, high = value
    if not 1024 <= low <= high <= 65535:
        raise ConfigError(
            f"{where}: port_range {low}-{high} should lie within 1024-65535, lowest first, e.g. [18100, 18199]"
        )
    return low, high


def _idle(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != value:
        raise ConfigError(f"{where}: idle_timeout_minutes should be a number of minutes (0: never), found {value!r}")
    return float(value) * 60


def parse_config(data: dict[str, Any], where: str = "kiosk config", base: Path | None = None) -> KioskConfig:
    """A KioskConfig from decoded TOML; relative paths are taken from ``base``."""
    base = base or Path.cwd()
    for key in data:
        if key not in KEYS:
            raise ConfigError(f"{where}: unknown setting {key!r}{_suggest(key)}")
    seat = data.get("seat")
    if not isinstance(seat, str) or not _SEAT_RE.match(seat):
        raise ConfigError(
            f"{where}: seat should be a name of lowercase letters, digits, '.', '_' or '-' "
            f"(at most 40, e.g. \"room-a-01\"), found {seat!r}"
        )
    pin = data.get("pin_hash")
    if not isinstance(pin, str) or not pin:
        raise ConfigError(
            f"{where}: pin_hash is missing: run `tutor kiosk hash-pin` and paste the line it prints into the file"
        )
    problem = pin_hash_problem(pin)
    if problem:
        raise ConfigError(f"{where}: pin_hash cannot be used: {problem}")
    if "export_dir" not in data:
        raise ConfigError(f'{where}: export_dir is missing: the folder where each session\'s progress is saved, e.g. "exports"')
    engine = data.get("engine")
    if engine is not None and (not isinstance(engine, str) or not engine.startswith(_ENGINE_SCHEMES)):
        raise ConfigError(
            f"{where}: engine should be an engine URL such as \"unix:///var/run/docker.sock\" or "
            f"\"tcp://10.0.0.5:2376\", found {engine!r}"
        )
    builder = data.get("builder", "auto")
    if builder not in BUILDERS:
        close = difflib.get_close_matches(str(builder), BUILDERS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"{where}: builder should be one of {', '.join(BUILDERS)}, found {builder!r}{hint}")
    return KioskConfig(
        builder=builder,
        seat=seat,
        pin_hash=pin,
        export_dir=_path(data["export_dir"], "export_dir", where, base),
        lessons=_lessons(data.get("lessons", "all"), where),
        idle_timeout=_idle(data.get("idle_timeout_minutes", DEFAULT_IDLE_MINUTES), where),
        port_range=_port_range(data.get("port_range", list(DEFAULT_PORT_RANGE)), where),
        engine=engine,
        course=_path(data["course"], "course", where, base) if "course" in data else None,
    )


def load_config(path: Path | str) -> KioskConfig:
    """Read and check a kiosk config; ConfigError says what is wrong, where, and how to fix it."""
    path = Path(path).expanduser()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"no kiosk config at {path}: copy docs/kiosk-example.toml there and edit it, or pass --config FILE"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a folder, not a kiosk config file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the kiosk config {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file (expected TOML)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    config = parse_config(data, str(path), path.resolve().parent)
    return replace(config, source=path)


# -- applying it to a course ------------------------------------------------------------------------


def apply_lessons(course: Course, lessons: tuple[str, ...] | None) -> Course:
    """The course restricted to ``lessons``, in that order (ids it does not have are left out)."""
    if lessons is None:
        return course
    by_id = {lesson.id: lesson for lesson in course.lessons}
    return replace(course, lessons=tuple(by_id[i] for i in lessons if i in by_id))


def unknown_lessons(course: Course, lessons: tuple[str, ...] | None) -> list[str]:
    known = {lesson.id for lesson in course.lessons}
    return [i for i in (lessons or ()) if i not in known]
