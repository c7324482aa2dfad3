"""An engine pool: the Docker engines a room's browser seats build on, and how many seats each takes.

Example (docs/pool-example.toml)::

    [[engine]]
    name = "front"                          # optional: the URL's host by default
    url = "unix:///var/run/docker.sock"
    seats = 10

    [[engine]]
    name = "big"
    url = "tcp://10.0.0.5:2376"
    seats = 20
    tls_verify = true                       # as DOCKER_TLS_VERIFY
    cert_path = "/etc/tutor/certs/big"      # ca.pem, cert.pem, key.pem (as DOCKER_CERT_PATH)

    [[engine]]
    url = "ssh://tutor@10.0.0.6"
    seats = 10

Every problem of the file is reported at once, each as ``FILE:LINE: what, and the fix`` (with a
"did you mean" for a misspelt setting): an instructor fixes the file in one pass.

A seat's engine is chosen when its tab opens (``assign``): the engine with the most free room
among those that answer. Which seat went where is kept in the seats' root folder
(``.pool-seats.json``, under a lock: every tab is a process of its own), with the pid of the process
serving it, so a seat whose process died frees its place. ``tutor serve --pool`` watches the engines
(``PoolMonitor``) and keeps what it saw in ``.pool-health.json``: an engine that stopped answering
gets no new seats. ``pool_state`` is what ``tutor pool status`` prints.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutor import atomic
from tutor.engine.build_queue import BuildQueue

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TOP_KEYS = ("engine", "limits")
LIMIT_KEYS = ("memory", "cpus", "pids")
ENGINE_KEYS = ("name", "url", "seats", "builds", "tls_verify", "cert_path")
DEFAULT_BUILDS = 2  # builds an engine takes at once: a 2-core machine compiles one go_app at a time well
MAX_BUILDS = 64
QUEUE_FOLDER = ".build-queue"  # under the seats' root: one line of builds per engine
SCHEMES = ("unix", "tcp", "ssh")
CERT_FILES = ("ca.pem", "cert.pem", "key.pem")
MAX_SEATS = 1000
SEATS_FILE = ".pool-seats.json"
HEALTH_FILE = ".pool-health.json"
LOCK_FILE = ".pool.lock"
PING_TIMEOUT = 3  # seconds: an engine slower than this to answer a ping is no place for a new seat
HEALTH_FRESH = 30.0  # seconds a monitor's word on an engine holds
# What a seat's process must not inherit from the serving machine: the pool names its engine.
ENGINE_ENV = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")


class PoolError(Exception):
    """The pool file cannot be used: every problem, each with its file and line."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class PoolEngine:
    name: str
    url: str
    seats: int
    tls_verify: bool = False
    cert_path: Path | None = None
    builds: int = DEFAULT_BUILDS  # at once; the others wait in line, told how many are ahead

    def build_queue(self, root: Path) -> BuildQueue:
        """The line of builds its seats share, in the seats' root folder."""
        return BuildQueue(root / QUEUE_FOLDER / self.name, self.builds)

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` naming this engine as the docker CLI and SDK read it (``DOCKER_HOST`` and its
        TLS settings): the ``env=`` of the process serving a seat on it."""
        env = {k: v for k, v in base.items() if k not in ENGINE_ENV}
        env["DOCKER_HOST"] = self.url
        if self.tls_verify:
            env["DOCKER_TLS_VERIFY"] = "1"
        if self.cert_path is not None:
            env["DOCKER_CERT_PATH"] = str(self.cert_path)
        return env


@dataclass(frozen=True)
class Limits:
    """Per container: memory (bytes, swap included), CPUs, processes. None: no limit of that kind."""

    memory: int | None = None
    cpus: float | None = None
    pids: int | None = None

    def describe(self) -> str:
        parts = []
        if self.memory is not None:
            parts.append(f"{self.memory // (1024 * 1024)} MB of memory")
        if self.cpus is not None:
            parts.append(f"{self.cpus:g} CPU" + ("s" if self.cpus != 1 else ""))
        if self.pids is not None:
            parts.append(f"{self.pids} processes")
        return ", ".join(parts) or "no limits"


_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
MIN_MEMORY = 6 * 1024 * 1024  # the engine refuses less


def _limits(table: Any, at: Callable[[str, int, str | None], str], problems: list[str]) -> Limits | None:
    if not isinstance(table, dict):
        problems.append(f"{at('', 0, 'limits')}: limits should be a [limits] table with memory, cpus and pids")
        return None
    for key in table:
        if key not in LIMIT_KEYS:
            problems.append(f"{at('limits', 0, key)}: unknown setting {key!r}{_suggest(key, LIMIT_KEYS)}")
    memory = cpus = pids = None
    if "memory" in table:
        raw = table["memory"]
        m = _SIZE_RE.match(raw) if isinstance(raw, str) else None
        if m is None or int(float(m.group(1)) * _UNITS[m.group(2).lower()]) < MIN_MEMORY:
            problems.append(f'{at("limits", 0, "memory")}: memory should be a size of at least 6m such as "512m" or "1g", found {raw!r}')
        else:
            memory = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    if "cpus" in table:
        raw = table["cpus"]
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not 0.01 <= raw <= 1024:
            problems.append(f"{at('limits', 0, 'cpus')}: cpus should be a number of CPUs such as 1 or 0.5, found {raw!r}")
        else:
            cpus = float(raw)
    if "pids" in table:
        raw = table["pids"]
        if isinstance(raw, bool) or not isinstance(raw, int) or not 8 <= raw <= 1_000_000:
            problems.append(f"{at('limits', 0, 'pids')}: pids should be a whole number of processes (at least 8), found {raw!r}")
        else:
            pids = raw
    return Limits(memory, cpus, pids)


@dataclass(frozen=True)
class Pool:
    engines: tuple[PoolEngine, ...]
    source: Path | None = None
    limits: Limits | None = None  # what every container a seat runs may use

    @property
    def seats(self) -> int:
        return sum(e.seats for e in self.engines)

    def engine(self, name: str) -> PoolEngine | None:
        return next((e for e in self.engines if e.name == name), None)


# -- reading the file -------------------------------------------------------------------------------


def _lines(text: str) -> dict[tuple[str, int, str | None], int]:
    """Where each setting is: (table, index of that table, key or None for the header) -> line.

    tomllib keeps no positions; a pool file is plain tables and keys, so the lines are read here."""
    where: dict[tuple[str, int, str | None], int] = {}
    counts: dict[str, int] = {}
    table, index = "", 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        m = re.match(r"^\[\[\s*([^\]]+?)\s*\]\]", stripped) or re.match(r"^\[\s*([^\]]+?)\s*\]", stripped)
        if m:
            table = m.group(1).strip('"')
            index = counts.get(table, -1) + 1 if stripped.startswith("[[") else 0
            counts[table] = index
            where.setdefault((table, index, None), number)
            continue
        m = re.match(r'^("([^"]*)"|[A-Za-z0-9_-]+)\s*=', stripped)
        if m:
            key = m.group(2) if m.group(2) is not None else m.group(1)
            where.setdefault((table, index, key), number)
    return where


def _suggest(key: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else f" (known settings: {', '.join(known)})"


def default_name(url: str) -> str:
    """``tcp://10.0.0.5:2376`` -> ``10.0.0.5-2376``; ``unix:///var/run/docker.sock`` -> ``local``."""
    from urllib.parse import urlparse

    parsed = urlparse(url)
    if parsed.scheme == "unix":
        return "local"
    host = parsed.hostname or "engine"
    return re.sub(r"[^a-z0-9_.-]", "-", f"{host}-{parsed.port}" if parsed.port else host)[:40]


def parse_pool(data: dict[str, Any], text: str, where: str = "pool", base: Path | None = None) -> Pool:
    """A Pool from decoded TOML (``text`` is the file, for line numbers); PoolError lists every problem."""
    base = base or Path.cwd()
    lines = _lines(text)
    problems: list[str] = []

    def at(table: str, index: int, key: str | None) -> str:
        line = lines.get((table, index, key)) or lines.get((table, index, None))
        return f"{where}:{line}" if line else where

    for key in data:
        if key not in TOP_KEYS:
            problems.append(f"{at('', 0, key)}: unknown setting {key!r}{_suggest(key, TOP_KEYS)}")
    tables = data.get("engine")
    if tables is None:
        problems.append(f"{where}: no engine listed: add one [[engine]] table per engine, with its url and seats")
        raise PoolError(problems)
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        problems.append(f"{at('', 0, 'engine')}: engine should be [[engine]] tables, one per engine")
        raise PoolError(problems)
    engines: list[PoolEngine] = []
    names: dict[str, int] = {}
    urls: dict[str, int] = {}
    for i, table in enumerate(tables):
        header = at("engine", i, None)
        for key in table:
            if key not in ENGINE_KEYS:
                problems.append(f"{at('engine', i, key)}: unknown setting {key!r}{_suggest(key, ENGINE_KEYS)}")
        url = table.get("url")
        url_ok = False
        if url is None:
            problems.append(f"{header}: this engine has no url, e.g. url = \"tcp://10.0.0.5:2376\"")
        elif not isinstance(url, str) or "://" not in url:
            problems.append(
                f"{at('engine', i, 'url')}: url should be an engine URL such as \"unix:///var/run/docker.sock\", "
                f"\"tcp://10.0.0.5:2376\" or \"ssh://user@host\", found {url!r}"
            )
        else:
            scheme = url.split("://", 1)[0]
            if scheme not in SCHEMES:
                close = difflib.get_close_matches(scheme, SCHEMES, n=1, cutoff=0.5)
                hint = f" (did you mean {close[0]}://?)" if close else ""
                problems.append(
                    f"{at('engine', i, 'url')}: {url!r} is not an engine URL a pool takes: "
                    f"unix://, tcp:// or ssh://{hint}"
                )
            elif scheme != "unix" and not url.split("://", 1)[1].strip("/"):
                problems.append(f"{at('engine', i, 'url')}: {url!r} names no host")
            else:
                url_ok = True
        if url_ok:
            if url in urls:
                problems.append(f"{at('engine', i, 'url')}: {url} is listed twice (first at line {urls[url]})")
            urls.setdefault(url, lines.get(("engine", i, "url"), 0))
        seats = table.get("seats")
        if seats is None:
            problems.append(f"{header}: this engine has no seats: how many seats it takes, e.g. seats = 10")
        elif isinstance(seats, bool) or not isinstance(seats, int) or not 1 <= seats <= MAX_SEATS:
            problems.append(
                f"{at('engine', i, 'seats')}: seats should be a whole number of seats from 1 to {MAX_SEATS}, "
                f"found {seats!r}"
            )
        builds = table.get("builds", DEFAULT_BUILDS)
        if isinstance(builds, bool) or not isinstance(builds, int) or not 1 <= builds <= MAX_BUILDS:
            problems.append(
                f"{at('engine', i, 'builds')}: builds should be how many builds the engine takes at once, "
                f"from 1 to {MAX_BUILDS}, found {builds!r}"
            )
            builds = DEFAULT_BUILDS
        name = table.get("name", default_name(url) if url_ok else None)
        if name is not None and (not isinstance(name, str) or not _NAME_RE.match(name)):
            problems.append(
                f"{at('engine', i, 'name')}: name should be lowercase letters, digits, '.', '_' or '-' "
                f"(at most 40), found {name!r}"
            )
            name = None
        if isinstance(name, str):
            if name in names:
                problems.append(
                    f"{at('engine', i, 'name' if 'name' in table else 'url')}: two engines are named {name!r} "
                    f"(the other at line {names[name]}): give each its own name = \"...\""
                )
            names.setdefault(name, lines.get(("engine", i, "name")) or lines.get(("engine", i, "url"), 0))
        tls_verify = table.get("tls_verify", False)
        if not isinstance(tls_verify, bool):
            problems.append(f"{at('engine', i, 'tls_verify')}: tls_verify should be true or false, found {tls_verify!r}")
            tls_verify = False
        cert_path: Path | None = None
        if "cert_path" in table:
            raw = table["cert_path"]
            if not isinstance(raw, str) or not raw.strip():
                problems.append(f"{at('engine', i, 'cert_path')}: cert_path should be a folder path in quotes, found {raw!r}")
            else:
                cert_path = Path(raw).expanduser()
                cert_path = cert_path if cert_path.is_absolute() else base / cert_path
                missing = [f for f in CERT_FILES if not (cert_path / f).is_file()]
                if missing:
                    problems.append(
                        f"{at('engine', i, 'cert_path')}: {cert_path} lacks {', '.join(missing)}: the folder holds "
                        "the engine's CA and this machine's client certificate, as DOCKER_CERT_PATH does"
                    )
        if (tls_verify or cert_path is not None) and url_ok and not str(url).startswith("tcp://"):
            problems.append(f"{at('engine', i, 'tls_verify' if tls_verify else 'cert_path')}: TLS settings are for tcp:// engines only")
        if tls_verify and cert_path is None:
            problems.append(f"{at('engine', i, 'tls_verify')}: tls_verify needs cert_path, the folder with ca.pem, cert.pem and key.pem")
        if url_ok and isinstance(name, str) and isinstance(seats, int) and not isinstance(seats, bool) and 1 <= seats <= MAX_SEATS:
            engines.append(PoolEngine(name, str(url), seats, tls_verify, cert_path, builds))
    if not tables:
        problems.append(f"{at('', 0, 'engine')}: no engine listed: add one [[engine]] table per engine")
    limits = _limits(data["limits"], at, problems) if "limits" in data else None
    if problems:
        raise PoolError(problems)
    return Pool(tuple(engines), limits=limits)


def load_pool(path: Path | str) -> Pool:
    """Read and check a pool file; PoolError names each problem's line and its fix."""
    path = Path(path).expanduser()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PoolError([f"no pool file at {path}: copy docs/pool-example.toml there and edit it"]) from None
    except IsADirectoryError:
        raise PoolError([f"{path} is a folder, not a pool file"]) from None
    except OSError as exc:
        raise PoolError([f"cannot read the pool file {path}: {exc.strerror or exc}"]) from None
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise PoolError([f"{path}: not a text file (expected TOML)"]) from None
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise PoolError([f"{path}:{m.group(1) if m else '?'}: not valid TOML: {message}"]) from None
    pool = parse_pool(data, text, str(path), path.resolve().parent)
    return Pool(pool.engines, path, pool.limits)


# -- talking to the pool's engines -----------------------------------------------------------------------


def engine_client(engine: PoolEngine, timeout: int = PING_TIMEOUT):
    """A low-level client for one of the pool's engines, with its TLS settings."""
    import docker

    tls: Any = False
    if engine.cert_path is not None:
        tls = docker.tls.TLSConfig(
            client_cert=(str(engine.cert_path / "cert.pem"), str(engine.cert_path / "key.pem")),
            ca_cert=str(engine.cert_path / "ca.pem"),
            verify=engine.tls_verify,
        )
    return docker.APIClient(base_url=engine.url, version="auto", timeout=timeout, tls=tls)


def ping(engine: PoolEngine, timeout: int = PING_TIMEOUT) -> str | None:
    """None when the engine answers; otherwise why not, in a learner's words."""
    from tutor.engine.client import diagnose

    api = None
    try:
        api = engine_client(engine, timeout)
        api.ping()
        return None
    except Exception as exc:  # noqa: BLE001 - every failure is a reason the engine is down
        return diagnose(engine.url, exc).reason
    finally:
        if api is not None:
            with contextlib.suppress(Exception):
                api.close()


@dataclass(frozen=True)
class Health:
    up: bool
    checked: float  # time.time() of the check
    problem: str = ""


def read_health(root: Path, now: float | None = None) -> dict[str, Health]:
    """What the monitor last saw of each engine, when it is fresh (HEALTH_FRESH)."""
    now = time.time() if now is None else now
    try:
        data = json.loads((root / HEALTH_FILE).read_text(encoding="utf-8"))
        found = {name: Health(bool(h["up"]), float(h["checked"]), str(h.get("problem", ""))) for name, h in data.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return {name: h for name, h in found.items() if now - h.checked <= HEALTH_FRESH}


def write_health(root: Path, health: Mapping[str, Health]) -> None:
    data = {name: {"up": h.up, "checked": h.checked, "problem": h.problem} for name, h in health.items()}
    atomic.write_text(root / HEALTH_FILE, json.dumps(data, indent=1))


# -- which seat is where ------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "a+", encoding="utf-8") as fh:
        try:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - no flock: one server per root is assumed
            pass
        yield


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_seats(root: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((root / SEATS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict) and isinstance(v.get("engine"), str)}


def seats_now(root: Path) -> dict[str, str]:
    """Seat -> engine name, for the seats whose process still runs."""
    return {seat: entry["engine"] for seat, entry in _read_seats(root).items() if _alive(int(entry.get("pid", 0) or 0))}


@dataclass(frozen=True)
class Assignment:
    engine: PoolEngine
    full: bool = False  # every engine that answers had its seats taken: this one has the least over
    all_down: bool = False  # no engine answered: the seat says why when it starts


def assign(
    pool: Pool,
    root: Path,
    seat: str,
    pid: int | None = None,
    pinger: Callable[[PoolEngine], str | None] | None = None,
) -> Assignment:
    """Put ``seat`` on the engine with the most free room among those that answer; kept under ``root``."""
    pid = os.getpid() if pid is None else pid
    pinger = pinger or ping
    with _locked(root):
        entries = {
            s: e for s, e in _read_seats(root).items() if _alive(int(e.get("pid", 0) or 0)) and pool.engine(e["engine"])
        }
        used = {e.name: 0 for e in pool.engines}
        for entry in entries.values():
            used[entry["engine"]] += 1
        health = read_health(root)
        order = sorted(pool.engines, key=lambda e: (-(e.seats - used[e.name]), pool.engines.index(e)))
        chosen: PoolEngine | None = None
        newly_down: dict[str, Health] = {}
        for engine in order:
            seen = health.get(engine.name)
            if seen is not None and not seen.up:
                continue  # the monitor saw it down: no new seats until it answers again
            problem = pinger(engine)
            if problem is None:
                chosen = engine
                break
            newly_down[engine.name] = Health(False, time.time(), problem)
        if newly_down:
            write_health(root, {**health, **newly_down})
        all_down = chosen is None
        chosen = chosen or order[0]
        entries[seat] = {"engine": chosen.name, "pid": pid, "since": time.time()}
        atomic.write_text(root / SEATS_FILE, json.dumps(entries, indent=1))
        return Assignment(chosen, full=used[chosen.name] >= chosen.seats, all_down=all_down)


def release(root: Path, seat: str) -> None:
    """The seat's process ended: its place is free."""
    with _locked(root):
        entries = _read_seats(root)
        if entries.pop(seat, None) is not None:
            atomic.write_text(root / SEATS_FILE, json.dumps(entries, indent=1))


# -- the pool's state -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineState:
    engine: PoolEngine
    seats: tuple[str, ...]  # the seats on it now
    up: bool | None  # None: not known
    problem: str = ""


@dataclass(frozen=True)
class PoolState:
    engines: tuple[EngineState, ...]

    @property
    def down(self) -> tuple[EngineState, ...]:
        return tuple(e for e in self.engines if e.up is False)

    def lines(self) -> list[str]:
        """A table: each engine, its seats taken of its room, up or down (and why)."""
        rows = [("engine", "url", "seats", "state")]
        for e in self.engines:
            state = "up" if e.up else "not checked" if e.up is None else f"DOWN: {e.problem}"
            rows.append((e.engine.name, e.engine.url, f"{len(e.seats)}/{e.engine.seats}", state))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        out = ["  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows]
        taken = sum(len(e.seats) for e in self.engines)
        room = sum(e.engine.seats for e in self.engines)
        summary = f"{len(self.engines)} engines, {taken} of {room} seats taken"
        if self.down:
            on_down = sum(len(e.seats) for e in self.down)
            names = ", ".join(e.engine.name for e in self.down)
            told = f"; its {on_down} seat{'s' if on_down != 1 else ''} told" if on_down else ""
            summary += f"; down: {names} (new seats go elsewhere{told})"
        else:
            summary += "; every engine answers" if all(e.up for e in self.engines) else ""
        out.append(summary)
        for e in self.engines:
            if e.seats:
                out.append(f"  {e.engine.name}: {', '.join(sorted(e.seats))}")
        return out


def pool_state(
    pool: Pool, root: Path, check: bool = False, pinger: Callable[[PoolEngine], str | None] | None = None
) -> PoolState:
    """Seats per engine (from ``root``) and which engines answer: the monitor's word, or a fresh
    ping (``check``, or where the monitor said nothing lately)."""
    seats = seats_now(root)
    health = {} if check else read_health(root)
    fresh = _ping_all([e for e in pool.engines if e.name not in health], pinger or ping)
    states = []
    for engine in pool.engines:
        seen = health.get(engine.name)
        if seen is not None:
            up, problem = seen.up, seen.problem
        else:
            problem_now = fresh.get(engine.name)
            up, problem = problem_now is None, problem_now or ""
        on_it = tuple(s for s, name in seats.items() if name == engine.name)
        states.append(EngineState(engine, on_it, up, problem))
    return PoolState(tuple(states))


def _ping_all(engines: Sequence[PoolEngine], pinger: Callable[[PoolEngine], str | None]) -> dict[str, str | None]:
    """Every engine pinged at once: one down engine's timeout does not add up."""
    found: dict[str, str | None] = {}

    def one(engine: PoolEngine) -> None:
        found[engine.name] = pinger(engine)

    threads = [threading.Thread(target=one, args=(e,), daemon=True) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return found


@dataclass
class PoolMonitor:
    """Pings every engine every ``interval`` seconds, keeps what it saw for the seats' processes
    and ``tutor pool status``, and says each change (``say``)."""

    pool: Pool
    root: Path
    say: Callable[[str], None]
    interval: float = 5.0
    pinger: Callable[[PoolEngine], str | None] = ping
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _last: dict[str, bool] = field(default_factory=dict)
    _seats: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def check_once(self) -> PoolState:
        found = _ping_all(self.pool.engines, self.pinger)
        now = time.time()
        write_health(self.root, {name: Health(problem is None, now, problem or "") for name, problem in found.items()})
        state = pool_state(self.pool, self.root)
        for e in state.engines:
            before = self._last.get(e.engine.name)
            if before is not None and before != e.up:
                # A seat whose build the engine took down may have ended since the last round.
                seats = sorted(set(e.seats) | set(self._seats.get(e.engine.name, ())))
                self.say(self._change(e, state, seats))
            self._last[e.engine.name] = bool(e.up)
            self._seats[e.engine.name] = e.seats
        return state

    def _change(self, e: EngineState, state: PoolState, seats_on_it: Sequence[str]) -> str:
        if e.up:
            return f"engine {e.engine.name} ({e.engine.url}) answers again: it takes new seats"
        healthy = [x.engine.name for x in state.engines if x.up]
        where = f"new seats go to {', '.join(healthy)}" if healthy else "no engine answers: new seats cannot build"
        n = len(seats_on_it)
        told = 'are told' if n != 1 else 'is told'
        seats = f"its {n} seat{'s' if n != 1 else ''} ({', '.join(seats_on_it)}) {told} the engine is down" if n else "no seat was on it"
        return f"engine {e.engine.name} ({e.engine.url}) stopped answering: {e.problem} {seats}; {where}"

    def start(self) -> PoolState:
        state = self.check_once()
        self._thread = threading.Thread(target=self._run, name="pool-monitor", daemon=True)
        self._thread.start()
        return state

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check_once()
            except Exception as exc:  # noqa: BLE001 - the watch goes on; the instructor is told once
                self.say(f"the pool check failed: {exc}")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


# -- every engine at once ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineRun:
    engine: PoolEngine
    code: int
    output: str


def run_on_each(pool: Pool, tutor_args: Sequence[str], timeout: float = 600) -> list[EngineRun]:
    """``tutor --engine URL ARGS...`` once per engine, all at once, each in a process whose
    environment names its engine (and TLS settings) as a seat's does; in the pool's order."""
    import subprocess

    def one(engine: PoolEngine) -> EngineRun:
        argv = [sys.executable, "-m", "tutor", "--engine", engine.url, *tutor_args]
        try:
            done = subprocess.run(
                argv, env=engine.environment(os.environ), capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return EngineRun(engine, 1, f"no result within {timeout:.0f} s")
        return EngineRun(engine, done.returncode, (done.stdout + done.stderr).rstrip())

    results: dict[str, EngineRun] = {}
    threads = [
        threading.Thread(target=lambda e=e: results.__setitem__(e.name, one(e)), daemon=True) for e in pool.engines
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [results[e.name] for e in pool.engines]


def load_bundle_everywhere(pool: Pool, bundle: Path, say: Callable[[str], None]) -> dict[str, str | None]:
    """The bundle loaded into every engine of the pool at once; engine name -> None, or why it failed.
    ``say`` gets each engine's report as that engine finishes."""
    from tutor.workshop.bundle import BundleError, load_bundle

    lock = threading.Lock()
    outcome: dict[str, str | None] = {}

    def one(engine: PoolEngine) -> None:
        lines: list[str] = []
        problem: str | None = None
        api = None
        try:
            api = engine_client(engine, timeout=60)
            api.ping()
            lines.extend(load_bundle(api, bundle))
        except BundleError as exc:
            problem = exc.message + (f" (fix: {exc.fix})" if exc.fix else "")
        except Exception as exc:  # noqa: BLE001 - an engine that cannot be reached is this engine's report
            from tutor.engine.client import diagnose

            problem = diagnose(engine.url, exc).reason
        finally:
            if api is not None:
                with contextlib.suppress(Exception):
                    api.close()
        with lock:
            outcome[engine.name] = problem
            say(f"engine {engine.name} ({engine.url}): " + ("ready" if problem is None else f"FAILED: {problem}"))
            for line in lines:
                say(f"  {line}")

    threads = [threading.Thread(target=one, args=(e,), daemon=True) for e in pool.engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcome
