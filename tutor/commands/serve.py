"""`tutor serve`: the course in a browser, one seat per browser tab (textual-serve).

Each tab that connects gets its own tutor process, started by textual-serve with
``python -m tutor.workshop.browser_seat``: its own seat name, ``TUTOR_HOME``
(workspace, progress) and image tags.  With ``--kiosk CONFIG`` every tab is a
kiosk seat (welcome screen, PIN, reset when the tab closes).
"""

from __future__ import annotations

import shlex
import socket
import sys
from pathlib import Path

from tutor.commands.exit_codes import EXIT_OK, EXIT_USAGE

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
_WILDCARDS = ("0.0.0.0", "::", "")


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="serve the course to web browsers, one seat per browser tab")
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST}; 0.0.0.0 for the room's network)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})")
    p.add_argument("--kiosk", metavar="CONFIG", help="every tab is a kiosk seat with this config (seat names use its `seat` as prefix)")
    p.add_argument("--root", metavar="DIR", help="where browser seats keep their files (default: browser-seats in the tutor's data folder)")
    p.add_argument("--public-url", metavar="URL", help="the address browsers use, when it is not http://HOST:PORT (e.g. behind a proxy)")
    p.add_argument("--pool", metavar="FILE", help="spread the seats over the engines of this pool file (docs/workshop.md)")


def lan_address() -> str:
    """This machine's address on the room's network (no packet is sent), or 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def seat_command(
    root: Path, kiosk: Path | None, engine: str | None, lessons: Path | None, pool: Path | None = None
) -> str:
    """The shell command textual-serve runs for each tab."""
    argv = [sys.executable, "-m", "tutor.workshop.browser_seat", "--root", str(root)]
    if kiosk is not None:
        argv += ["--kiosk", str(kiosk)]
    if engine:
        argv += ["--engine", engine]
    if pool is not None:
        argv += ["--pool", str(pool)]
    if lessons is not None:
        argv += ["--lessons", str(lessons)]
    return shlex.join(argv)


def run(args) -> int:
    from tutor import paths
    from tutor.engine import ports

    if not 1 <= args.port <= 65535:
        print(f"error: port {args.port} is out of range (1-65535)", file=sys.stderr)
        return EXIT_USAGE
    kiosk = Path(args.kiosk).expanduser().resolve() if args.kiosk else None
    if kiosk is not None:
        from tutor.workshop.config import ConfigError, load_config

        try:
            load_config(kiosk)  # a broken config is reported here, not once per browser tab
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    pool_path = Path(args.pool).expanduser().resolve() if getattr(args, "pool", None) else None
    pool = None
    if pool_path is not None:
        from tutor.workshop.pool import PoolError, load_pool

        if getattr(args, "engine", None):
            print("error: --engine names one engine and --pool several: give one of them", file=sys.stderr)
            return EXIT_USAGE
        try:
            pool = load_pool(pool_path)
        except PoolError as exc:
            print("error: the pool file cannot be used:", file=sys.stderr)
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
            return EXIT_USAGE
    lessons = Path(args.lessons).expanduser().resolve() if getattr(args, "lessons", None) else None
    if lessons is not None and not lessons.is_dir():
        print(f"error: no course folder at {lessons}", file=sys.stderr)
        return EXIT_USAGE
    bind = "0.0.0.0" if args.host in _WILDCARDS else args.host
    try:
        free = ports.is_port_free(args.port, bind)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    if not free:
        print(f"error: port {args.port} is in use on {args.host}: pick another with --port", file=sys.stderr)
        return EXIT_USAGE
    root = Path(args.root).expanduser().resolve() if args.root else paths.data_dir() / "browser-seats"
    root.mkdir(parents=True, exist_ok=True)
    if kiosk is not None:
        from tutor.workshop.browser_seat import finish_pending_resets

        for seat, code in finish_pending_resets(root, kiosk, getattr(args, "engine", None), pool):
            outcome = "finished" if code == 0 else f"tried again (exit {code}; `tutor kiosk reset` tells why)"
            print(f"interrupted reset of browser seat {seat}: {outcome}", flush=True)
    public_url = args.public_url or (
        f"http://{lan_address() if args.host in _WILDCARDS else args.host}:{args.port}"
    )

    from textual_serve.server import Server

    monitor = None
    keeper = None
    if pool is not None:
        from tutor.workshop.pool import PoolMonitor

        monitor = PoolMonitor(pool, root, say=lambda line: print(f"pool: {line}", flush=True))
        for line in monitor.start().lines():
            print(f"pool: {line}", flush=True)
        print(f"pool: `tutor pool status {shlex.quote(str(pool_path))} --root {shlex.quote(str(root))}` shows it again", flush=True)
        if pool.limits is not None:
            from tutor.workshop.limits import LimitKeeper

            keeper = LimitKeeper(pool, pool.limits, say=lambda line: print(f"pool: {line}", flush=True))
            keeper.start()
            print(f"pool: every container a seat runs gets {pool.limits.describe()}", flush=True)
    server = Server(
        seat_command(root, kiosk, getattr(args, "engine", None), lessons, pool_path),
        host=args.host,
        port=args.port,
        title="tutor",
        public_url=public_url.rstrip("/"),
    )
    print(f"Browser seats at {public_url}/ : each tab is a seat of its own (files in {root}).", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("Anyone who can reach this address gets a seat: serve only on the room's own network.", flush=True)
    try:
        server.serve()
    finally:
        if monitor is not None:
            monitor.stop()
        if keeper is not None:
            keeper.stop()
    return EXIT_OK
