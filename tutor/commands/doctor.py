"""`tutor doctor`: what blocks the course on this machine, and how to fix it."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, TextIO

from tutor import fmt
from tutor.commands.exit_codes import EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    from tutor.engine.doctor import DoctorReport


def render(report: DoctorReport) -> list[str]:
    lines: list[str] = []
    e = report.engine
    if e.reachable:
        lines.append(f"OK       engine      Docker {e.version} (API {e.api_version}) at {e.url}")
        store = {"containerd": "containerd image store", "graphdriver": "classic image store"}.get(e.image_store or "", "")
        lines.append(f"OK       storage     {e.storage_driver}" + (f", {store}" if store else ""))
        mark = "OK" if e.buildkit else "NOTE"
        lines.append(f"{mark:<8} buildkit    {e.buildkit or 'not available on this engine (the classic builder builds)'}")
    else:
        lines.append(f"PROBLEM  engine      not reachable at {e.url}")
    for image in report.images:
        mark = "PROBLEM" if image.state == "missing" else ("NOTE" if image.state == "stand-in" else "OK")
        detail = image.state
        if image.size:
            detail += f", {fmt.size(image.size)}"
        if image.note:
            detail += f" ({image.note})"
        lines.append(f"{mark:<8} image       {image.name}: {detail}")
    if report.disk_free is not None:
        lines.append(f"{'OK':<8} disk        {fmt.size(report.disk_free)} free on {report.disk_path}")
    for problem in report.problems:
        lines.append("")
        lines.append(f"{'problem:' if problem.blocking else 'note:':<8} {problem.what}")
        lines.append(f"fix:     {problem.fix}")
    lines.append("")
    lines.append("ready for the course" if report.ok else "not ready: fix the problems above, then run `tutor doctor` again")
    return lines


def add_parser(sub) -> None:
    p = sub.add_parser("doctor", help="check the engine, the base images and the disk")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--pool", metavar="FILE", help="check every engine of this engine pool (docs/workshop.md)")


def run(args, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    if getattr(args, "pool", None):
        return doctor_pool(args.pool, as_json=args.json, out=out)
    return doctor(as_json=args.json, engine=args.engine, out=out)


def doctor_pool(file: str, as_json: bool = False, out: TextIO | None = None) -> int:
    """The doctor's report for each engine of a pool, all checked at once."""
    out = out or sys.stdout
    from tutor.commands.exit_codes import EXIT_USAGE
    from tutor.workshop.pool import PoolError, load_pool, run_on_each

    try:
        pool = load_pool(file)
    except PoolError as exc:
        print("error: the pool file cannot be used:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_USAGE
    runs = run_on_each(pool, ["doctor", *(["--json"] if as_json else [])])
    if as_json:
        reports = {}
        for r in runs:
            try:
                reports[r.engine.name] = json.loads(r.output)
            except ValueError:
                reports[r.engine.name] = {"ok": False, "error": r.output}
        print(json.dumps(reports, indent=2), file=out)
    else:
        for r in runs:
            print(f"== engine {r.engine.name} ({r.engine.url}, {r.engine.seats} seats)", file=out)
            print(r.output, file=out)
            print(file=out)
    bad = [r.engine.name for r in runs if r.code != 0]
    if not as_json:
        print(f"pool: {len(runs) - len(bad)} of {len(runs)} engines ready" + (f"; not ready: {', '.join(bad)}" if bad else ""), file=out)
    return EXIT_FAILED if bad else EXIT_OK


def doctor(as_json: bool = False, engine: str | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    from tutor.engine.doctor import check

    report = check(engine)
    if as_json:
        data = asdict(report)
        data["ok"] = report.ok
        print(json.dumps(data, indent=2), file=out)
    else:
        print("\n".join(render(report)), file=out)
    return EXIT_OK if report.ok else EXIT_FAILED
