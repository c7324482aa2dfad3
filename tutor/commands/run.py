"""`tutor run IMAGE [-p HOST:CONTAINER] [--probe PATH] [--keep]`: run what was built, and ask it for a page.

Prints the docker command behind each action, the answer of the probe (e.g.
``200 OK in 3 ms: Hello, Docker with Go!``) and the container's output, then
stops and removes the container unless ``--keep``.  Without ``-p`` a probe
fails, and the command explains why: EXPOSE documents a port, ``-p`` publishes it.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
import time
from pathlib import Path
from typing import TextIO

from tutor.commands.exit_codes import EXIT_FAILED, EXIT_NO_ENGINE, EXIT_OK

START_GRACE = 1.0  # seconds to let a container without a probe start (and maybe fail)
LOG_LINES = 20


def _mapping(text: str) -> tuple[int, int]:
    from tutor.engine.ports import parse_mapping

    try:
        return parse_mapping(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an IP address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)") from exc


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="run an image as a container, ask its server for a page, then remove it")
    p.add_argument("image", help="a local image, e.g. the tag `tutor build` printed")
    p.add_argument(
        "-p", "--publish", dest="ports", metavar="HOST:CONTAINER", type=_mapping, action="append", default=[],
        help="publish a container port on a host port, as `docker run -p` (repeatable)",
    )
    p.add_argument(
        "--probe", metavar="PATH", nargs="?", const="/",
        help="GET this path on the published port (default: / when -p is given)",
    )
    p.add_argument("--keep", action="store_true", help="leave the container running afterwards")
    p.add_argument("--name", help="container name (default: tutor-<seat>-<random>)")
    p.add_argument(
        "--bind", type=_address, default="127.0.0.1", metavar="ADDRESS",
        help="host address to publish on (default 127.0.0.1; 0.0.0.0 opens the port to the network)",
    )
    p.add_argument("--wait", type=float, default=15.0, metavar="SECONDS", help="how long to wait for the server (default 15)")


def run(args, out: TextIO = sys.stdout) -> int:
    return run_image(
        args.image,
        ports=args.ports,
        probe_path=args.probe,
        keep=args.keep,
        name=args.name,
        bind_host=args.bind,
        wait=args.wait,
        engine=args.engine,
        out=out,
    )


def _say(out: TextIO, text: str = "") -> None:
    print(text, file=out, flush=True)


def _error(out: TextIO, message: str, fix: str = "") -> None:
    _say(out, f"error: {message}")
    if fix:
        _say(out, f"fix: {fix}")


def run_image(
    image: str,
    ports: list[tuple[int, int]] | None = None,
    probe_path: str | None = None,
    keep: bool = False,
    name: str | None = None,
    bind_host: str = "127.0.0.1",
    wait: float = 15.0,
    engine: str | None = None,
    out: TextIO = sys.stdout,
    seat: str | None = None,
) -> int:
    from tutor.engine import containers as ct
    from tutor.seat import Seat

    seat = seat or Seat.from_environment(engine).name  # learnt here, handed to the engine
    from tutor.engine.client import EngineUnavailable, connect

    mapping: dict[int, int] = {}
    for host_port, container_port in ports or []:
        if host_port in mapping:
            _error(out, f"host port {host_port} is given twice", "give every -p its own host port")
            return EXIT_FAILED
        mapping[host_port] = container_port
    try:
        api = connect(engine)
    except EngineUnavailable as exc:
        _error(out, exc.problem.reason, exc.problem.fix)
        return EXIT_NO_ENGINE
    info = None
    try:
        try:
            info = ct.run_container(api, image, ports=mapping, name=name, bind_host=bind_host, seat=seat)
        except ct.ImageMissing as exc:
            _error(out, exc.message, _build_hint(image, seat) or exc.fix)
            return EXIT_FAILED
        _say(out, f"$ {info.cli}")
        _say(out, f"container {info.name} ({info.short_id}) is {info.status}")
        code = _watch(api, info, mapping, probe_path, wait, out)
        _print_logs(api, info, out)
        return code
    except ct.ContainerError as exc:
        _error(out, exc.message, exc.fix)
        return EXIT_FAILED
    except EngineUnavailable as exc:
        _error(out, f"lost the Docker engine: {exc.problem.reason}", exc.problem.fix)
        return EXIT_NO_ENGINE
    finally:
        if info is not None:
            _finish(api, info, keep, out)
        api.close()


def _watch(api, info, mapping: dict[int, int], probe_path: str | None, wait: float, out: TextIO) -> int:
    """Probe the server (or just let it start); the exit code of the run."""
    from tutor.engine import containers as ct
    from tutor.engine import probe as pr

    if mapping:
        host_port = next(iter(mapping))
        path = probe_path or "/"
        host = info.ports[0].host_ip if info.ports else "127.0.0.1"
        pr.wait_ready(host_port, wait, host=host, path=path, still_running=lambda: ct.container_running(api, info.id))
        result = pr.probe(host_port, path, host=host)
        _say(out, f"$ {result.cli}")
        _say(out, result.summary())
        if result.ok:
            return EXIT_OK
        _explain_exit(api, info, out, " before its server answered")
        return EXIT_FAILED

    if probe_path is None:
        deadline = time.monotonic() + START_GRACE
        while time.monotonic() < deadline and ct.container_running(api, info.id):
            time.sleep(0.1)
        return EXIT_OK if _explain_exit(api, info, out) in (None, 0) else EXIT_FAILED

    # The "forgot -p" moment: ask localhost for the port the image documents.
    from tutor.engine.ports import is_port_free

    time.sleep(0.2)  # a container that cannot start fails at once: tell that story instead
    if _explain_exit(api, info, out) is not None:
        return EXIT_FAILED

    exposed = info.exposed or ct.exposed_ports(api, info.image)
    port = exposed[0] if exposed else 8080
    if is_port_free(port):
        result = pr.probe(port, probe_path, timeout=1.0)
        _say(out, f"$ {result.cli}")
        _say(out, result.summary())
        if result.ok:  # a race: something started listening meanwhile
            _say(out, f"(that answer came from another program on port {port}, not from {info.name})")
    else:
        _say(out, f"(not asking localhost:{port}: another program holds that port, so no answer would come from {info.name})")
    _say(out, pr.explain_unpublished(info, exposed))
    return EXIT_FAILED


def _explain_exit(api, info, out: TextIO, when: str = "") -> int | None:
    """Say so when the container has stopped by itself; its exit code, or None while it runs."""
    try:
        state = api.inspect_container(info.id).get("State") or {}
    except Exception:  # noqa: BLE001 - gone already: nothing to add
        return None
    if state.get("Running"):
        return None
    code = state.get("ExitCode")
    why = f": {state['Error']}" if state.get("Error") else ""
    _say(out, f"container {info.name} exited with code {code}{why}{when}")
    return int(code or 0)


def _print_logs(api, info, out: TextIO) -> None:
    from tutor.engine import containers as ct

    try:
        stream = ct.logs(api, info.id, follow=False, tail=LOG_LINES)
        lines = list(stream)
    except Exception:  # noqa: BLE001 - logs are a courtesy; their failure changes nothing
        return
    if lines:
        _say(out, f"$ {ct.cli_line('logs', info.name)}")
        for line in lines:
            _say(out, f"  | {line}")


def _finish(api, info, keep: bool, out: TextIO) -> None:
    from tutor.engine import containers as ct

    if keep:
        if ct.container_running(api, info.id):
            _say(out, f"kept: {info.name} is still running; stop and remove it with "
                      f"`docker stop {info.name} && docker rm {info.name}` or `tutor clean`")
        return
    try:
        if ct.container_running(api, info.id):
            _say(out, f"$ {ct.stop_container(api, info.id).cli}")
        try:
            removed = ct.remove_container(api, info.id)
        except ct.ContainerMissing:
            raise
        except ct.ContainerError:  # it restarted or hung on the way down
            removed = ct.remove_container(api, info.id, force=True)
        _say(out, f"$ {removed.cli}")
    except ct.ContainerMissing:
        pass
    except Exception as exc:  # noqa: BLE001 - say what is left behind rather than fail the run
        _say(out, f"warning: could not remove {info.name} ({exc}); `tutor clean` removes it")


def _build_hint(image: str, seat: str) -> str:
    """When IMAGE is a folder with a Dockerfile, the commands that build and run it."""
    folder = Path(image)
    if not (folder.is_dir() and (folder / "Dockerfile").is_file()):
        return ""
    from tutor.engine.labels import seat_tag

    tag = seat_tag(seat, folder.resolve().name)
    return f"{image} is a folder: build it first with `tutor build {image}`, then `tutor run {tag}`"
