"""`python -m benchmarks`: run every benchmark, print the table, write docs/performance.md."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import (
    cached_rebuild,
    heavy_output,
    interaction,
    layer_viewer,
    many_seats,
    plot,
    pool_seats,
    startup,
    step_sweep,
)
from benchmarks.machine import Machine, describe

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "performance.md"
STEPS_PLOT = "performance-steps.png"  # beside the report
RESULTS = ROOT / "docs" / "performance.json"  # every benchmark's last outcome, for --only
NAMES = ("cached", "steps", "steps-buildkit", "viewer", "interaction", "heavy", "startup", "seats", "pool")


@dataclass(frozen=True)
class Row:
    benchmark: str
    goal: str
    measured: str
    passed: bool


@dataclass(frozen=True)
class Outcome:
    name: str
    title: str
    method: str  # how it was measured (the module's docstring)
    rows: tuple[Row, ...]
    details: dict
    run: str = ""  # when it ran and how busy the machine was: "2026-12-07 17:40 UTC, load 3.1 -> 2.9"


def save_outcomes(outcomes: list[Outcome]) -> list[Outcome]:
    """Merge this run's outcomes into the saved ones; all of them, in the benchmarks' order.

    `--only NAME` measures one benchmark again: the page keeps the others' last results, each
    with the time and load of its own run.
    """
    saved: dict[str, Outcome] = {}
    if RESULTS.exists():
        try:
            for item in json.loads(RESULTS.read_text(encoding="utf-8")):
                item["rows"] = tuple(Row(**row) for row in item["rows"])
                saved[item["name"]] = Outcome(**item)
        except (ValueError, KeyError, TypeError):
            saved = {}  # an unreadable file: this run starts it again
    saved.update({o.name: o for o in outcomes})
    ordered = [saved[n] for n in NAMES if n in saved] + [o for n, o in saved.items() if n not in NAMES]
    RESULTS.write_text(json.dumps([dataclasses.asdict(o) for o in ordered], indent=1) + "\n", encoding="utf-8")
    return ordered


# -- the benchmarks ------------------------------------------------------------------------------


def run_cached(args: argparse.Namespace) -> Outcome:
    d = cached_rebuild.measure(args.pairs)
    measured = f"{d['tutor_median_ms']:.0f} ms vs {d['docker_build_q_median_ms']:.0f} ms: ratio {d['ratio']:.2f}"
    row = Row("Cached rebuild of go_app (tutor / `docker build -q`)", "ratio <= 1.0", measured, d["ratio"] <= 1.0)
    return Outcome("cached", "Cached rebuild", cached_rebuild.__doc__ or "", (row,), d)


def _slope(points: list[dict], key: str) -> float:
    """Milliseconds each extra step adds, from the fewest steps to the most."""
    low, high = points[0], points[-1]
    return (high[key] - low[key]) / (high["steps"] - low["steps"])


def run_steps(args: argparse.Namespace, builder: str = step_sweep.CLASSIC) -> Outcome:
    steps = tuple(sorted(int(n) for n in args.steps.split(",")))
    d = step_sweep.measure(args.step_rounds, args.cold_rounds, steps, builder)
    name, shown = ("steps", "classic builder") if builder == step_sweep.CLASSIC else (f"steps-{builder}", "BuildKit")
    cached = [p for p in d["points"] if p["mode"] == "cached"]
    cold = [p for p in d["points"] if p["mode"] == "cold"]
    big, big_cold = cached[-1], cold[-1]
    n = big["steps"]
    rows = [
        Row(
            f"Cached rebuild, {n} steps (tutor in process / `docker build -q`, {shown})",
            "ratio <= 1.5",
            f"{big['tutor_ms']:.0f} ms vs {big['cli_ms']:.0f} ms: ratio {big['ratio']:.2f}",
            big["ratio"] <= 1.5,
        ),
        Row(
            f"Cold build, {n} steps (tutor in process / `docker build -q --no-cache`, {shown})",
            "ratio <= 1.2",
            f"{big_cold['tutor_ms'] / 1000:.1f} s vs {big_cold['cli_ms'] / 1000:.1f} s: ratio {big_cold['ratio']:.2f}",
            big_cold["ratio"] <= 1.2,
        ),
    ]
    if len(cached) > 1 and "process_ms" in big:
        mine, theirs = _slope(cached, "process_ms"), _slope(cached, "cli_ms")
        theirs = theirs if theirs > 0 else float("nan")  # the CLI's cost did not grow: no ratio to judge
        rows.append(
            Row(
                f"`tutor build` process, cached, {shown}: cost per added step ({cached[0]['steps']} to {n} steps) / the CLI's",
                "ratio <= 1.5",
                f"{mine:.2f} ms vs {theirs:.2f} ms a step: ratio {mine / theirs:.2f} (whole run at {n} steps "
                f"{big['process_ms']:.0f} ms vs {big['cli_ms']:.0f} ms, x{big['process_ratio']:.2f}; "
                f"at {cached[0]['steps']} steps x{cached[0]['process_ratio']:.1f}: start-up)",
                mine / theirs <= 1.5,
            )
        )
    picture = STEPS_PLOT if builder == step_sweep.CLASSIC else STEPS_PLOT.replace(".png", f"-{builder}.png")
    image = plot.steps_plot(d, REPORT.parent / picture) if not args.no_write else None
    details = {**d, "plot": str(image.relative_to(ROOT)) if image else None}
    return Outcome(name, f"Cost per step ({shown})", step_sweep.__doc__ or "", tuple(rows), details)


def run_viewer(args: argparse.Namespace) -> Outcome:
    d = layer_viewer.measure(args.viewer_rounds)
    rows = (
        Row(
            f"Layer viewer: first open of {d['image']} / `docker save` of it",
            "ratio <= 2.0",
            f"{d['first_open_ms'] / 1000:.2f} s vs {d['docker_save_ms'] / 1000:.2f} s: ratio {d['first_open_ratio']:.2f} "
            f"({d['layers']} layers, {d['files']:,} files)",
            d["first_open_ratio"] <= 2.0,
        ),
        Row(
            "Layer viewer: second open of the same image (next process: disk cache)",
            "<= 0.2 s",
            f"{d['second_open_disk_ms']:.0f} ms (same process: {d['second_open_memory_ms']:.2f} ms)",
            d["second_open_disk_ms"] <= 200,
        ),
        Row(
            "Size race of a seat (single and multi-stage go_app), a new session",
            "<= 1 s",
            f"{d['race_new_session_ms']:.0f} ms (the very first, floor measured in a container: "
            f"{d['race_first_ms']:.0f} ms)",
            d["race_new_session_ms"] <= 1000,
        ),
        Row(
            "Size race, the very first (floor measured in a container)",
            "<= 1 s",
            f"{d['race_first_ms']:.0f} ms",
            d["race_first_ms"] <= 1000,
        ),
    )
    return Outcome("viewer", "Layer viewer and size race", layer_viewer.__doc__ or "", rows, d)


def run_interaction(args: argparse.Namespace) -> Outcome:
    command = [sys.executable, "-m", "benchmarks.interaction", "--lessons", str(args.interaction_lessons)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}")
    d = json.loads(done.stdout.strip().splitlines()[-1])
    rows = (
        Row(
            "Interaction: open a lesson (Enter on the map -> lesson drawn)",
            "p99 <= 100 ms",
            f"p50 {d['open_p50_ms']:.0f} ms, p99 {d['open_p99_ms']:.0f} ms ({d['lessons_opened']} lessons)",
            d["open_p99_ms"] <= 100,
        ),
        Row(
            "Interaction: switch the lesson's tabs (1-4 -> tab drawn)",
            "p99 <= 100 ms",
            f"p50 {d['tab_p50_ms']:.0f} ms, p99 {d['tab_p99_ms']:.0f} ms ({d['tab_switches']} presses)",
            d["tab_p99_ms"] <= 100,
        ),
    )
    return Outcome("interaction", "Interaction", interaction.__doc__ or "", rows, d)


def _heavy_once(replay: bool) -> dict:
    command = [sys.executable, "-m", "benchmarks.heavy_output"] + (["--replay"] if replay else [])
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_heavy(args: argparse.Namespace) -> Outcome:
    runs: list[dict] = []
    note = ""
    for _ in range(args.heavy_runs):
        try:
            runs.append(_heavy_once(replay=False))
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            note = f"the real build failed ({exc}); the recording was replayed instead"
            runs.append(_heavy_once(replay=True))
    if any(not r["succeeded"] or r["output_lines"] < heavy_output.LINES for r in runs):
        raise RuntimeError(f"a heavy-output build did not print its {heavy_output.LINES:,} lines: {runs}")
    median = lambda key: statistics.median(r[key] for r in runs)  # noqa: E731
    worst = lambda key: max(r[key] for r in runs)  # noqa: E731
    source = runs[0]["source"] + (f"; {note}" if note else "")
    p99, key, rss = median("latency_p99_ms"), median("key_worst_ms"), worst("peak_rss_mb")
    bounded = all(r["log_line_count"] <= r["log_max_lines"] for r in runs)
    rows = (
        Row(
            "Heavy output: engine event -> row/log updated",
            "p99 <= 30 ms",
            f"p50 {median('latency_p50_ms'):.0f} ms, p99 {p99:.0f} ms (worst run {worst('latency_p99_ms'):.0f} ms)",
            p99 <= 30,
        ),
        Row(
            "Heavy output: key press answered during the stream",
            "<= 50 ms",
            f"largest wait {key:.0f} ms (worst run {worst('key_worst_ms'):.0f} ms; median press {median('key_p50_ms'):.0f} ms)",
            key <= 50,
        ),
        Row("Heavy output: peak RSS of the app", "<= 200 MB", f"{rss:.0f} MB", rss <= 200),
        Row(
            "Heavy output: log pane bounded",
            "line_count <= max_lines",
            f"{worst('log_line_count')} <= {runs[0]['log_max_lines']} after {runs[0]['output_lines']:,} lines",
            bounded,
        ),
    )
    details = {"source": source, "runs": len(runs), "per_run": runs}
    return Outcome("heavy", "Heavy output in the TUI", heavy_output.__doc__ or "", rows, details)


def run_startup(args: argparse.Namespace) -> Outcome:
    d = startup.measure(args.startup_runs)
    imports = startup.import_times()
    row = Row(
        "Start-up: `tutor` to the course map answering a key",
        "<= 1.0 s",
        f"{d['key_handled_median_s']:.2f} s median (first frame {d['first_frame_median_s']:.2f} s)",
        d["key_handled_median_s"] <= 1.0,
    )
    return Outcome("startup", "Start-up", startup.__doc__ or "", (row,), {**d, "import_tutor_ui_app": imports})


def run_seats(args: argparse.Namespace) -> Outcome:
    d = many_seats.measure(args.seat_rounds)
    ok = d["failed"] == 0
    row = Row(
        f"Many seats: {d['seats']} go_app builds at once on one engine",
        f"all {d['seats']} succeed",
        f"{d['builds'] - d['failed']}/{d['builds']} ok; {d['together_median_s']:.2f} s together vs "
        f"{d['one_after_another_median_s']:.2f} s one after another (x{d['speedup']:.1f})",
        ok,
    )
    return Outcome("seats", "Many seats", many_seats.__doc__ or "", (row,), d)


def run_pool(args: argparse.Namespace) -> Outcome:
    d = pool_seats.measure(args.pool_seats)
    three, one, kill = d["three_engines"], d["one_engine"], d["kill"]
    n = d["seats"]
    spread = "/".join(str(v) for _, v in sorted(three["seats_per_engine"].items()))
    rows = (
        Row(
            f"Engine pool: {n} seats over 3 engines, lesson 1 each (build go_app, HTTP check)",
            f"all {n} pass, {n // 3} per engine",
            f"{three['passed']}/{n} passed, seats {spread}; {three['wall_s']:.0f} s (one engine: "
            f"{one['passed']}/{n} in {one['wall_s']:.0f} s); {three['peak_rss_mb_median']:.0f} MB a seat",
            three["passed"] == n and one["passed"] == n and set(three["seats_per_engine"].values()) == {n // 3},
        ),
        Row(
            "Engine pool: one of 3 engines killed while its seats build",
            "the other seats pass; new seats avoid it",
            f"others {kill['other_seats_passed']} passed; on the killed one {kill['killed_engine_seats_passed']}/"
            f"{kill['seats_on_killed_engine']}; a new seat went to {kill['new_seat_after_the_kill_went_to']}",
            kill["other_seats_passed"] == f"{n - n // 3}/{n - n // 3}" and kill["new_seat_after_the_kill_went_to"] != "e2",
        ),
    )
    return Outcome("pool", "Engine pool", (pool_seats.__doc__ or "") + "\n" + pool_seats.describe(d), rows, d)


RUNNERS: dict[str, Callable[[argparse.Namespace], Outcome]] = {
    "cached": run_cached,
    "steps": run_steps,
    "steps-buildkit": lambda args: run_steps(args, step_sweep.BUILDKIT),
    "viewer": run_viewer,
    "interaction": run_interaction,
    "heavy": run_heavy,
    "startup": run_startup,
    "seats": run_seats,
    "pool": run_pool,
}


# -- output ----------------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    head = ("Benchmark", "Goal", "Measured", "Result")
    cells = [head] + [(r.benchmark, r.goal, r.measured, "PASS" if r.passed else "FAIL") for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(4)).rstrip() for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _steps_section(details: dict) -> list[str]:
    """The sweep's curve: the picture, and its numbers beside it."""
    out = []
    if details.get("plot"):
        out += [f"![Build time and ratio against the number of steps]({Path(details['plot']).name})", ""]
    else:
        out += ["(No picture: install the `bench` extra, `pip install -e '.[bench]'`, for matplotlib.)", ""]
    out += [
        "| steps | mode | tutor (in process) | `tutor build` process | docker CLI | ratio | process ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in details["points"]:
        process = f"{p['process_ms']:.0f} ms" if "process_ms" in p else ""
        process_ratio = f"{p['process_ratio']:.2f}" if "process_ratio" in p else ""
        out.append(
            f"| {p['steps']} | {p['mode']} | {p['tutor_ms']:.0f} ms | {process} | {p['cli_ms']:.0f} ms | "
            f"{p['ratio']:.2f} | {process_ratio} |"
        )
    empty = details.get("cached_rebuild_empty_size_book") or {}
    if empty:
        out += [
            "",
            f"A cached rebuild of {empty['steps']} steps by `tutor build` with an empty size book (the "
            f"cache built by another tool): {empty['process_ms']:.0f} ms, x{empty['process_ratio']:.2f} the CLI.",
        ]
    return out + [""]


def markdown(
    machine: Machine,
    load_end: tuple[float, float, float],
    outcomes: list[Outcome],
    when: str,
    seconds: float,
    note: str = "",
) -> str:
    out = [
        "# Performance",
        "",
        "Measured, not claimed: the tutor against the tools a learner would otherwise use. This page is",
        "written by `python -m benchmarks` (run from the project folder with the project's virtualenv and a",
        "running Docker engine); run it again to measure your own machine. Timings on a shared or busy",
        "machine are slower and noisier: the load average below says how busy this one was.",
        "",
        f"Run on {when}, {seconds:.0f} s in all." + (f" {note}" if note else ""),
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
    ]
    out += [f"| {k} | {_md_cell(v)} |" for k, v in machine.rows(load_end)]
    out += [
        "",
        "## Results",
        "",
        "| Benchmark | Goal | Measured | Result | Run (load average) |",
        "|---|---|---|---|---|",
    ]
    for outcome in outcomes:
        for r in outcome.rows:
            out.append(
                f"| {_md_cell(r.benchmark)} | {_md_cell(r.goal)} | {_md_cell(r.measured)} | "
                f"{'PASS' if r.passed else '**FAIL**'} | {_md_cell(outcome.run)} |"
            )
    for o in outcomes:
        if o.name.startswith("steps") and o.details.get("plot"):
            out += ["", f"![{o.title}: build time and ratio against the CLI]({Path(o.details['plot']).name})"]
    notes = Path(__file__).with_name("NOTES.md")  # the analysis of missed goals, kept by hand
    if notes.exists() and any(not r.passed for outcome in outcomes for r in outcome.rows):
        out += ["", notes.read_text(encoding="utf-8").strip()]
    for outcome in outcomes:
        out += ["", f"## {outcome.title}", "", f"Run {outcome.run}." if outcome.run else "", outcome.method.strip(), ""]
        if outcome.name.startswith("steps") and "points" in outcome.details:
            out += _steps_section(outcome.details)
        out += ["Raw figures:", "", "```json"]
        out.append(json.dumps(outcome.details, indent=2))
        out += ["```"]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", default=",".join(NAMES), help=f"comma-separated subset of {', '.join(NAMES)}")
    parser.add_argument("--pairs", type=int, default=15, help="A/B pairs of the cached rebuild (default 15)")
    parser.add_argument(
        "--step-rounds", type=int, default=5, help="cached rounds per Dockerfile of the step sweep (default 5)"
    )
    parser.add_argument(
        "--steps", default="10,100,500", help="Dockerfile lengths of the step sweep (default 10,100,500)"
    )
    parser.add_argument(
        "--cold-rounds", type=int, default=2, help="cold rounds per Dockerfile of the step sweep (default 2)"
    )
    parser.add_argument("--viewer-rounds", type=int, default=3, help="rounds of the layer viewer (default 3)")
    parser.add_argument("--interaction-lessons", type=int, default=4, help="lessons opened (default 4)")
    parser.add_argument("--heavy-runs", type=int, default=3, help="runs of the heavy-output build (default 3)")
    parser.add_argument("--startup-runs", type=int, default=5, help="start-ups measured (default 5)")
    parser.add_argument("--seat-rounds", type=int, default=3, help="rounds of the many-seats benchmark (default 3)")
    parser.add_argument("--pool-seats", type=int, default=30, help="seats of the engine-pool benchmark (default 30)")
    parser.add_argument(
        "--private-engine",
        action="store_true",
        help="run on a private engine of the same dockerd (others' cleanups on a shared engine cannot touch it)",
    )
    parser.add_argument(
        "--note", default="", help="a sentence for the page about this run (e.g. the machine was shared)"
    )
    parser.add_argument("--no-write", action="store_true", help=f"do not write {REPORT.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in RUNNERS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(NAMES)})")

    if args.private_engine:
        from benchmarks.private_engine import private_engine

        with private_engine() as url:
            print(f"on a private engine at {url}", flush=True)
            return _run(args, chosen)
    return _run(args, chosen)


def _run(args: argparse.Namespace, chosen: list[str]) -> int:
    started = time.monotonic()
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = describe()
    print(f"{machine.cpu}, {machine.cores} cores, load {machine.load_at_start[0]:.2f} at start", flush=True)
    outcomes: list[Outcome] = []
    for name in chosen:
        print(f"running {name}…", flush=True)
        began = (datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), os.getloadavg()[0])
        try:
            outcome = RUNNERS[name](args)
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
            traceback.print_exc()
            row = Row(name, "runs", f"error: {exc}", False)
            outcome = Outcome(name, name, "", (row,), {"error": str(exc)})
        run = f"{began[0]}, load {began[1]:.1f} -> {os.getloadavg()[0]:.1f}"
        outcomes.append(dataclasses.replace(outcome, run=run))
        for row in outcome.rows:  # each goal as soon as it is known
            print(
                f"  {'PASS' if row.passed else 'FAIL'}  {row.benchmark}: {row.measured} (goal {row.goal})", flush=True
            )
    load_end = os.getloadavg()
    rows = [row for outcome in outcomes for row in outcome.rows]
    print()
    print(table(rows))
    print(f"\nload average {machine.load_at_start[0]:.2f} at start, {load_end[0]:.2f} at end")
    if not args.no_write:
        page = save_outcomes(outcomes)
        REPORT.write_text(
            markdown(machine, load_end, page, when, time.monotonic() - started, args.note), encoding="utf-8"
        )
        print(f"written to {REPORT.relative_to(ROOT)}")
    return 0 if all(r.passed for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
