"""buildx writes each build's metadata to a file of the tutor's: none outlives its build for long."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_metadata_files_left_by_a_dead_process_are_swept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import tempfile

    from tutor.engine.buildkit import buildx

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    old = tmp_path / "tutor-buildx-dead.json"
    fresh = tmp_path / "tutor-buildx-running.json"
    other = tmp_path / "somebody-else.json"
    for path in (old, fresh, other):
        path.write_text("")
    hour_ago = os.path.getmtime(fresh) - buildx.STALE_METADATA - 5
    os.utime(old, (hour_ago, hour_ago))
    os.utime(other, (hour_ago, hour_ago))
    assert buildx._sweep_metadata_files() == 1
    assert not old.exists() and fresh.exists() and other.exists()
