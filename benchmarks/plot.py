"""The step sweep as a picture: time against steps, the tutor beside the docker CLI.

matplotlib comes with the ``bench`` extra (``pip install -e '.[bench]'``); without it the
benchmarks still run and the page says how to get the picture.
"""

from __future__ import annotations

from pathlib import Path

SERIES = (  # (mode, key, label, style)
    ("cold", "cli_ms", "docker build -q --no-cache", "--"),
    ("cold", "tutor_ms", "tutor, cold (in process)", "-"),
    ("cached", "process_ms", "tutor build (process), cached", ":"),
    ("cached", "cli_ms", "docker build -q, cached", "--"),
    ("cached", "tutor_ms", "tutor, cached (in process)", "-"),
)


def steps_plot(sweep: dict, path: Path) -> Path | None:
    """Write the PNG; None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display: a file only
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, (curve, ratio) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=100)
    for mode, key, label, style in SERIES:
        points = [p for p in sweep["points"] if p["mode"] == mode and key in p]
        if points:
            curve.plot([p["steps"] for p in points], [p[key] / 1000 for p in points], style, marker="o", label=label)
    curve.set_xscale("log")
    curve.set_yscale("log")
    curve.set_xlabel("Dockerfile steps")
    curve.set_ylabel("seconds (median)")
    curve.set_title(f"Build time against steps ({sweep.get('builder', 'classic')} builder)")
    curve.grid(True, which="both", alpha=0.3)
    curve.legend(fontsize=8)
    for mode, key, label in (
        ("cached", "ratio", "cached, in process"),
        ("cold", "ratio", "cold, in process"),
        ("cached", "process_ratio", "cached, tutor build process"),
    ):
        points = [p for p in sweep["points"] if p["mode"] == mode and key in p]
        if points:
            ratio.plot([p["steps"] for p in points], [p[key] for p in points], marker="o", label=label)
    ratio.axhline(1.5, color="grey", linestyle="--", linewidth=0.8)
    ratio.axhline(1.2, color="grey", linestyle=":", linewidth=0.8)
    ratio.set_xscale("log")
    ratio.set_yscale("log")
    ratio.set_xlabel("Dockerfile steps")
    ratio.set_ylabel("tutor / docker CLI")
    ratio.set_title("Ratio against the CLI (goals 1.5 cached, 1.2 cold)")
    ratio.grid(True, which="both", alpha=0.3)
    ratio.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
