"""The command line: `tutor` alone skips loading the commands, and parses the same either way."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tutor import cli


@pytest.mark.parametrize(
    "argv",
    [[], ["--lessons", "course"], ["--lessons=course", "--engine", "tcp://127.0.0.1:2375"], ["--lessons", "build"]],
)
def test_opening_the_course_parses_alike_without_the_commands(argv: list[str]) -> None:
    assert cli._opens_the_app(argv)
    fast = cli.build_parser(commands=False).parse_args(argv)
    full = cli.build_parser().parse_args(argv)
    assert vars(fast) == vars(full)
    assert fast.command is None


@pytest.mark.parametrize("argv", [["build"], ["--help"], ["--version"], ["--lessons"], ["--less", "x"], ["buidl"]])
def test_anything_else_goes_through_the_full_parser(argv: list[str]) -> None:
    assert not cli._opens_the_app(argv)


def test_a_mistyped_command_still_lists_the_commands(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["buidl"])
    assert exit_.value.code == 2
    assert "invalid choice: 'buidl'" in capsys.readouterr().err


def test_opening_the_course_loads_no_command_module() -> None:
    # In a fresh interpreter: which tutor.commands modules does parsing a bare `tutor` load?
    code = (
        "import sys; from tutor import cli; cli.build_parser(commands=not cli._opens_the_app([])).parse_args([]);"
        "print(sorted(m for m in sys.modules if m.startswith('tutor.commands')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
