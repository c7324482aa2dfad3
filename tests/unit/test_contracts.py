"""The code's contracts, checked like any other test: the import layers, the types, the lint rules.

Each tool runs from this interpreter's environment (the `dev` extra installs them) over the whole
package; a failure shows the tool's own report. `tests/lint` runs the same three by hand.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    tool = BIN / argv[0]
    if not tool.exists():
        pytest.fail(f"{argv[0]} is not installed in {BIN}: install the dev extra (pip install -e '.[dev]')")
    return subprocess.run([str(tool), *argv[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600)


def _passes(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"{result.args[0]} failed:\n{result.stdout}\n{result.stderr}"


def test_imports_keep_to_the_layers():
    """ui > workshop > course > engine > the shared modules; widgets never import screens."""
    _passes(_run("lint-imports", "--no-cache"))


def test_types_check():
    _passes(_run("mypy"))


def test_lint_finds_nothing():
    _passes(_run("ruff", "check", "tutor", "tests"))
