"""The shipped course, verified on the real engine: every starter fails its checks, every solution passes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.timeout(3600)  # about 20 cold go builds: 7 minutes on an idle 2-core machine, far more when busy
def test_every_starter_fails_and_every_solution_passes(base_images):
    result = subprocess.run(
        [sys.executable, "-m", "tutor", "lessons", "check", str(ROOT / "lessons"), "--run"],
        capture_output=True,
        text=True,
        timeout=3000,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    from tutor.course.loader import load_course

    total = sum(len(lesson.exercises) for lesson in load_course(ROOT / "lessons").lessons)
    assert total >= 15 and f"{total}/{total} exercises behave" in result.stdout
