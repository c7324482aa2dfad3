"""`python -m benchmarks`: run every benchmark, print the table, write docs/performance.md."""

from __future__ import annotations

import argparse
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

from benchmarks import cached_rebuild, heavy_output, many_seats, startup
from benchmarks.machine import Machine, describe

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "performance.md"
NAMES = ("cached", "heavy", "startup", "seats")


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


# -- the benchmarks ------------------------------------------------------------------------------


def run_cached(args: argparse.Namespace) -> Outcome:
    d = cached_rebuild.measure(args.pairs)
    measured = f"{d['tutor_median_ms']:.0f} ms vs {d['docker_build_q_median_ms']:.0f} ms: ratio {d['ratio']:.2f}"
    row = Row("Cached rebuild of go_app (tutor / `docker build -q`)", "ratio <= 1.0", measured, d["ratio"] <= 1.0)
    return Outcome("cached", "Cached rebuild", cached_rebuild.__doc__ or "", (row,), d)


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
            "p99 <= 50 ms",
            f"p50 {median('latency_p50_ms'):.0f} ms, p99 {p99:.0f} ms (worst run {worst('latency_p99_ms'):.0f} ms)",
            p99 <= 50,
        ),
        Row(
            "Heavy output: key press answered during the stream",
            "<= 100 ms",
            f"largest wait {key:.0f} ms (worst run {worst('key_worst_ms'):.0f} ms; median press {median('key_p50_ms'):.0f} ms)",
            key <= 100,
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


RUNNERS: dict[str, Callable[[argparse.Namespace], Outcome]] = {
    "cached": run_cached,
    "heavy": run_heavy,
    "startup": run_startup,
    "seats": run_seats,
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


def markdown(
    machine: Machine, load_end: tuple[float, float, float], outcomes: list[Outcome], when: str, seconds: float
) -> str:
    out = [
        "# Performance",
        "",
        "Measured, not claimed: the tutor against the tools a learner would otherwise use. This page is",
        "written by `python -m benchmarks` (run from the project folder with the project's virtualenv and a",
        "running Docker engine); run it again to measure your own machine. Timings on a shared or busy",
        "machine are slower and noisier: the load average below says how busy this one was.",
        "",
        f"Run on {when}, {seconds:.0f} s in all.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
    ]
    out += [f"| {k} | {_md_cell(v)} |" for k, v in machine.rows(load_end)]
    out += ["", "## Results", "", "| Benchmark | Goal | Measured | Result |", "|---|---|---|---|"]
    for outcome in outcomes:
        for r in outcome.rows:
            out.append(
                f"| {_md_cell(r.benchmark)} | {_md_cell(r.goal)} | {_md_cell(r.measured)} | {'PASS' if r.passed else '**FAIL**'} |"
            )
    notes = Path(__file__).with_name("NOTES.md")  # the analysis of missed goals, kept by hand
    if notes.exists() and any(not r.passed for outcome in outcomes for r in outcome.rows):
        out += ["", notes.read_text(encoding="utf-8").strip()]
    for outcome in outcomes:
        out += ["", f"## {outcome.title}", "", outcome.method.strip(), "", "Raw figures:", "", "```json"]
        out.append(json.dumps(outcome.details, indent=2))
        out += ["```"]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", default=",".join(NAMES), help=f"comma-separated subset of {', '.join(NAMES)}")
    parser.add_argument("--pairs", type=int, default=15, help="A/B pairs of the cached rebuild (default 15)")
    parser.add_argument("--heavy-runs", type=int, default=3, help="runs of the heavy-output build (default 3)")
    parser.add_argument("--startup-runs", type=int, default=5, help="start-ups measured (default 5)")
    parser.add_argument("--seat-rounds", type=int, default=3, help="rounds of the many-seats benchmark (default 3)")
    parser.add_argument("--no-write", action="store_true", help=f"do not write {REPORT.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in RUNNERS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(NAMES)})")

    started = time.monotonic()
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = describe()
    print(f"{machine.cpu}, {machine.cores} cores, load {machine.load_at_start[0]:.2f} at start", flush=True)
    outcomes: list[Outcome] = []
    for name in chosen:
        print(f"running {name}…", flush=True)
        try:
            outcomes.append(RUNNERS[name](args))
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
            traceback.print_exc()
            row = Row(name, "runs", f"error: {exc}", False)
            outcomes.append(Outcome(name, name, "", (row,), {"error": str(exc)}))
    load_end = os.getloadavg()
    rows = [row for outcome in outcomes for row in outcome.rows]
    print()
    print(table(rows))
    print(f"\nload average {machine.load_at_start[0]:.2f} at start, {load_end[0]:.2f} at end")
    if not args.no_write:
        REPORT.write_text(markdown(machine, load_end, outcomes, when, time.monotonic() - started), encoding="utf-8")
        print(f"written to {REPORT.relative_to(ROOT)}")
    return 0 if all(r.passed for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
