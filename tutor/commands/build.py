"""`tutor build`: a real build, one line per step as it happens."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tutor import fmt
from tutor.commands.exit_codes import EXIT_FAILED, EXIT_NO_ENGINE, EXIT_OK
from tutor.engine import labels
from tutor.engine.events import (
    STEP_EVENTS,
    BuildFailed,
    BuildSucceeded,
    ContextProgress,
    ContextSent,
    StepFinished,
    StepNeverEnds,
    StepOutput,
    StepSized,
    StepStarted,
    to_dict,
)
from tutor.engine.record import BuildRecord, StepState
from tutor.seat import Seat

if TYPE_CHECKING:  # the docker SDK loads when a build runs, not when `tutor --help` parses
    from tutor.engine.build import BuildRequest

STATUS_WORD = {"cached": "CACHED", "built": "BUILT", "failed": "FAILED", "running": "RUNNING", "metadata": "META"}
_COLOUR = {"CACHED": "\x1b[32m", "BUILT": "\x1b[33m", "FAILED": "\x1b[31;1m", "RUNNING": "\x1b[36m"}


def step_line(state: StepState, colour: bool = False, width: int = 46) -> str:
    word = STATUS_WORD.get(state.status, state.status.upper())
    shown = f"{_COLOUR[word]}{word:<7}\x1b[0m" if colour and word in _COLOUR else f"{word:<7}"
    if state.builder == "classic":
        n = f"{state.step}/{state.total}"
        stage = f"[{state.stage_name or f'stage {state.stage}'}] " if state.stage_name or state.stage else ""
        instruction = fmt.ellipsize(stage + state.instruction, width)
    else:  # BuildKit names steps "[5/6]" or "[builder 2/6]"; a config-only instruction has no name
        n = ""
        instruction = fmt.ellipsize(f"{state.label or ''} {state.instruction}".strip(), width)
    metadata = state.status == "metadata"
    known = state.size is not None or state.builder == "classic"  # BuildKit's sizes come after the build
    size = "no layer" if metadata else fmt.size(state.size) if state.status in ("cached", "built") and known else ""
    seconds = "" if metadata else fmt.seconds(state.seconds)
    lead = f"{n:>5}  " if state.builder == "classic" else ""
    return f"{lead}{shown}  {instruction:<{width}}  {seconds:>6}  {size:>9}".rstrip()


def request_from_args(
    path: str,
    dockerfile: str | None,
    tag: str | None,
    no_cache: bool,
    engine: str | None,
    builder: str = "classic",
    *,
    seat: str,
    target: str | None = None,
) -> BuildRequest:
    from tutor.engine.build import BuildRequest

    context = Path(path)
    df_name = Path(dockerfile).name if dockerfile else "Dockerfile"
    return BuildRequest(
        context=context,
        dockerfile=dockerfile,
        tag=tag or labels.seat_tag(seat, context.resolve().name, df_name),
        nocache=no_cache,
        labels=labels.managed_labels(seat, kind="build"),
        engine=engine,
        builder=builder,
        target=target,
    )


def add_parser(sub) -> None:
    p = sub.add_parser("build", help="build a Dockerfile and show every step as it happens")
    p.add_argument("path", nargs="?", default=".", help="build context folder (default: .)")
    p.add_argument("-f", "--file", dest="dockerfile", metavar="DOCKERFILE", help="Dockerfile (default: PATH/Dockerfile)")
    p.add_argument("-t", "--tag", help="name the image (default: tutor/<seat>/<folder>:latest)")
    p.add_argument("--json", action="store_true", help="one JSON object per event")
    p.add_argument("--no-cache", action="store_true", help="do not use the layer cache")
    p.add_argument("--target", metavar="STAGE", help="build up to this stage (`FROM ... AS STAGE`), as `docker build --target`")
    p.add_argument("-v", "--verbose", action="store_true", help="also print the output of every step")
    p.add_argument(
        "--builder",
        choices=("auto", "buildkit", "classic"),
        default=None,
        help="auto (default, or TUTOR_BUILDER): BuildKit where it can build, as `docker build` does; buildkit; "
        "classic (DOCKER_BUILDKIT=0)",
    )


def run(args, out: TextIO | None = None) -> int:
    from tutor.engine.build import AUTO, default_builder

    out = out or sys.stdout
    return build(
        args.path,
        dockerfile=args.dockerfile,
        tag=args.tag,
        as_json=args.json,
        no_cache=args.no_cache,
        verbose=args.verbose,
        engine=args.engine,
        out=out,
        builder=getattr(args, "builder", None) or default_builder(AUTO),
        target=getattr(args, "target", None),
    )


def build(
    path: str,
    dockerfile: str | None = None,
    tag: str | None = None,
    as_json: bool = False,
    no_cache: bool = False,
    verbose: bool = False,
    engine: str | None = None,
    out: TextIO | None = None,
    builder: str = "classic",
    seat: str | None = None,
    target: str | None = None,
) -> int:
    from tutor.engine import explain as cache_explain
    from tutor.engine.build import Build

    out = out or sys.stdout
    seat = seat or Seat.from_environment(engine).name
    request = request_from_args(path, dockerfile, tag, no_cache, engine, builder, seat=seat, target=target)
    record = BuildRecord()
    colour = out.isatty() and not as_json
    before = cache_explain.snapshot_before(request)  # the inputs, to explain cache misses after
    build_ = Build(request)
    noted = False
    for event in build_.events():
        if build_.note and not noted and not as_json:
            noted = True
            print(f"note: {build_.note}", file=out, flush=True)
        state = record.apply(event)
        why = None
        if isinstance(event, (BuildSucceeded, BuildFailed)) and not getattr(event, "cancelled", False):
            why = cache_explain.explain_build(request, record, before=before)
        if as_json:
            extra = {}
            if isinstance(event, STEP_EVENTS) and state is not None:
                extra = {
                    "step": state.step,
                    "total": state.total,
                    "instruction": state.instruction,
                    "cached": state.status == "cached",
                }
            if why is not None:
                extra["why"] = why.to_dict()
            extra["builder"] = build_.builder or builder
            if build_.via is not None:
                extra["via"] = build_.via
            if build_.note:
                extra["note"] = build_.note
            print(json.dumps(to_dict(event, **extra)), file=out, flush=True)
            continue
        _print_human(event, state, record, out, colour, verbose)
        if why is not None:
            print(f"why: {why.summary}", file=out, flush=True)
    if record.result is not None:
        return EXIT_OK
    failure = record.failure
    return EXIT_NO_ENGINE if failure is not None and failure.engine_lost and not record.steps else EXIT_FAILED


def _print_human(event, state, record: BuildRecord, out: TextIO, colour: bool, verbose: bool) -> None:
    if isinstance(event, ContextProgress):
        if colour:  # a live counter on a terminal; nothing in logs and pipes
            print(f"\x1b[2K{fmt.context_progress(event.phase, event.files, event.bytes, event.total_bytes)}\r", end="", file=out, flush=True)
    elif isinstance(event, ContextSent):
        print(("\x1b[2K" if colour else "") + f"context: {event.files} files, {fmt.size(event.bytes)}", file=out, flush=True)
    elif isinstance(event, StepStarted) and colour and state is not None:
        print(step_line(state, colour) + "\r", end="", file=out, flush=True)
    elif isinstance(event, StepFinished) and state is not None:
        print(("\x1b[2K" if colour else "") + step_line(state, colour), file=out, flush=True)
    elif isinstance(event, StepOutput) and verbose:
        print("\n".join(f"        | {line}" for line in event.lines), file=out, flush=True)
    elif isinstance(event, StepNeverEnds):
        print(("\x1b[2K" if colour else "") + f"note: {event.reason}.\n      {event.advice}", file=out, flush=True)
    elif isinstance(event, BuildFailed):
        _print_failure(event, state, record, out, colour)
    elif isinstance(event, StepSized) and state is not None and state.status != "metadata" and event.size:
        # BuildKit: sizes come from the image's history once it is built
        label = f"{state.label} " if state.label else ""
        print(f"{'LAYER':<7}  {fmt.ellipsize(label + state.instruction, 46):<46}  {'':>6}  {fmt.size(event.size):>9}", file=out, flush=True)
    elif isinstance(event, BuildSucceeded):
        total = record.counted_steps
        tags = ", ".join(event.tags) if event.tags else event.image_id
        print(
            f"{record.cache_hits}/{total} steps from cache · {fmt.seconds(event.seconds)} total · "
            f"image {fmt.size(event.image_size)} ({tags})",
            file=out,
            flush=True,
        )
        if event.store_sizes is not None:
            print(f"sizes: {fmt.store_figures(event.store_sizes.disk, event.store_sizes.content)}", file=out, flush=True)


def _print_failure(event: BuildFailed, state: StepState | None, record: BuildRecord, out: TextIO, colour: bool) -> None:
    if state is not None:
        print(("\x1b[2K" if colour else "") + step_line(state, colour), file=out, flush=True)
    if event.cancelled:
        print("build cancelled", file=out, flush=True)
        return
    if event.engine_lost and not record.steps:
        print(f"error: {event.message}", file=out, flush=True)
        if event.fix:
            print(f"fix: {event.fix}", file=out, flush=True)
        return
    where = ""
    if state is not None and state.tail:
        for line in state.tail:
            print(f"        | {line}", file=out)
    if state is not None:
        where = f"step {state.step}/{state.total} ({fmt.ellipsize(state.instruction, 60)}) failed: "
    elif event.line:
        where = f"Dockerfile line {event.line}: "
    print(f"error: {where}{event.message}", file=out, flush=True)
    if event.fix:
        print(f"fix: {event.fix}", file=out, flush=True)
