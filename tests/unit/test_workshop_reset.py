"""Seat reset without an engine: the export comes first, a crashed reset can be run again, seats stay apart.

(The engine side, removing exactly one seat's objects, is in tests/docker/test_workshop.py.)
"""

from __future__ import annotations

import csv
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tutor import paths
from tutor.course.loader import load_course
from tutor.course.progress import ProgressStore
from tutor.workshop import bundle, reset
from tutor.workshop.reset import ResetError, reset_seat

NO_ENGINE = "unix:///nonexistent/tutor-reset-test.sock"
COURSE = load_course(FIXTURES / "courses" / "ui")


def learner_was_here(seat: str) -> Path:
    """A session with a passed exercise and a workspace file, as the lesson screen leaves them."""
    reset.session(seat)
    store = ProgressStore(paths.progress_file(seat))
    store.set_current("first-build", "build-it")
    store.record_attempt("first-build", "build-it", passed=False, seconds=20)
    store.record_attempt("first-build", "build-it", passed=True, seconds=40)
    workspace = paths.workspace_dir(seat) / "first-build" / "build-it"
    workspace.mkdir(parents=True)
    (workspace / "Dockerfile").write_text("FROM golang:1.24-alpine\n")
    return workspace


def csv_rows(folder: Path) -> list[dict[str, str]]:
    with open(folder / reset.SUMMARY_CSV, newline="") as fh:
        return list(csv.DictReader(fh))


def test_reset_exports_then_empties_the_seat(tmp_path):
    learner_was_here("s1")
    exports = tmp_path / "exports"
    result = reset_seat("s1", exports, engine=NO_ENGINE, course=COURSE, reason="finish")

    data = json.loads(result.export.json_path.read_text())
    assert result.export.json_path == exports / f"s1_{result.export.session}.json"
    assert data["seat"] == "s1" and data["reason"] == "finish" and data["format"] == 1
    assert data["summary"]["exercises_passed"] == 1 and data["summary"]["exercises_total"] == 2
    assert data["summary"]["attempts"] == 2 and data["summary"]["build_minutes"] == 1.0
    assert data["summary"]["current_lesson"] == "first-build"
    first = data["lessons"][0]
    assert first["title"] == "First build" and first["exercises"][0]["state"] == "passed"
    assert data["progress"]["lessons"]["first-build"]["build-it"]["attempts"] == 2
    rows = csv_rows(exports)
    assert [(r["seat"], r["session"], r["reason"], r["exercises_passed"], r["exercises_total"]) for r in rows] == [
        ("s1", result.export.session, "finish", "1", "2")
    ]
    assert rows[0]["export_file"] == result.export.json_path.name

    assert result.workspace == paths.workspace_dir("s1") and list(result.workspace.iterdir()) == []
    assert not paths.progress_file("s1").exists()
    assert sorted(p.name for p in paths.seat_dir("s1").parent.iterdir()) == ["s1"]  # no marker, no trash left
    # No engine here: said plainly, and the next reset tries again.
    assert not result.ok and "next reset" in result.engine.problem


def test_each_session_is_exported_once_and_seats_share_the_folder(tmp_path):
    exports = tmp_path / "exports"
    learner_was_here("s1")
    learner_was_here("s2")
    first = reset_seat("s1", exports, engine=NO_ENGINE, course=COURSE)
    assert (paths.workspace_dir("s2") / "first-build" / "build-it" / "Dockerfile").exists()  # s2 untouched
    second = reset_seat("s2", exports, engine=NO_ENGINE, course=COURSE)
    again = reset_seat("s1", exports, engine=NO_ENGINE, course=COURSE)  # a new, empty session for s1
    rows = csv_rows(exports)
    assert [r["seat"] for r in rows] == ["s1", "s2", "s1"]
    assert len({first.export.session, second.export.session, again.export.session}) == 3
    assert json.loads(again.export.json_path.read_text())["summary"]["exercises_passed"] == 0
    with open(exports / reset.SUMMARY_CSV) as fh:
        assert fh.read().count("ended,seat,session") == 1  # one header


def test_a_reset_that_crashed_after_the_export_finishes_without_losing_it(tmp_path):
    exports = tmp_path / "exports"
    learner_was_here("s1")
    sid = reset.session("s1")[0]
    # Crash right after the export: the marker says so, the seat folder is still there.
    done = reset.export_session("s1", exports, COURSE, "idle", sid=sid)
    marker = paths.data_dir() / "seats" / ".s1.reset.json"
    marker.write_text(json.dumps({"session": sid, "reason": "idle", "exported": str(done.json_path)}))
    # ... and half-way through deleting it: the folder was renamed aside, the trash not removed.
    paths.seat_dir("s1").rename(paths.seat_dir("s1").with_name(f".s1.trash-{sid}"))
    assert reset.pending_reset("s1")

    result = reset_seat("s1", exports, engine=NO_ENGINE, course=COURSE, reason="instructor")
    assert result.export.session == sid and result.reason == "idle"  # the interrupted reset, finished
    assert json.loads(done.json_path.read_text())["summary"]["exercises_passed"] == 1  # not overwritten by an empty one
    assert len(csv_rows(exports)) == 1
    assert not reset.pending_reset("s1")
    assert sorted(p.name for p in paths.seat_dir("s1").parent.iterdir()) == ["s1"]


def test_a_reset_that_crashed_before_the_export_exports_the_same_session(tmp_path):
    exports = tmp_path / "exports"
    learner_was_here("s1")
    sid = reset.session("s1")[0]
    (paths.data_dir() / "seats" / ".s1.reset.json").write_text(json.dumps({"session": sid, "reason": "finish", "exported": None}))
    result = reset_seat("s1", exports, engine=NO_ENGINE, course=COURSE)
    assert result.export.json_path.name == f"s1_{sid}.json"
    assert json.loads(result.export.json_path.read_text())["summary"]["exercises_passed"] == 1


def test_when_the_export_fails_nothing_is_removed(tmp_path):
    workspace = learner_was_here("s1")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the export folder should be")
    with pytest.raises(ResetError) as err:
        reset_seat("s1", blocked, engine=NO_ENGINE, course=COURSE)
    assert "nothing was removed" in err.value.message and "writable" in err.value.fix
    assert (workspace / "Dockerfile").exists() and paths.progress_file("s1").exists()
    # Fixed folder: the same session is exported, then the seat is reset.
    result = reset_seat("s1", tmp_path / "exports", engine=NO_ENGINE, course=COURSE)
    assert json.loads(result.export.json_path.read_text())["summary"]["exercises_passed"] == 1


def test_an_empty_seat_name_is_refused(tmp_path):
    with pytest.raises(ValueError, match="every seat"):
        reset_seat("", tmp_path)


# -- bundles: the archive merge, on small archives in the `docker save` layout ------------------------------


def save_archive(repo: str, tag: str, layers: dict[str, bytes]) -> bytes:
    """A minimal `docker save` archive: a layer folder per layer, a config, manifest.json, repositories."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        for layer_id, data in layers.items():
            add(f"{layer_id}/layer.tar", data)
        config = f"{repo}-config.json"
        add(config, b"{}")
        add("manifest.json", json.dumps([{"Config": config, "RepoTags": [f"{repo}:{tag}"], "Layers": [f"{k}/layer.tar" for k in layers]}]).encode())
        add("repositories", json.dumps({repo: {tag: list(layers)[-1]}}).encode())
    return buf.getvalue()


def test_archives_are_merged_into_one_with_shared_layers_stored_once(tmp_path):
    out_path = tmp_path / "bundle.tar"
    merged: dict = {}
    written: set[str] = set()
    with tarfile.open(out_path, "w", format=tarfile.PAX_FORMAT) as out:
        bundle._copy_archive(io.BytesIO(save_archive("golang", "1.24-alpine", {"base": b"B" * 10, "go": b"G" * 20})), out, merged, written)
        bundle._copy_archive(io.BytesIO(save_archive("alpine", "latest", {"base": b"B" * 10})), out, merged, written)
        for kind in ("manifest.json", "repositories"):
            out.addfile(*bundle._json_member(kind, merged[kind]))
    with tarfile.open(out_path) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
        repositories = json.load(tar.extractfile("repositories"))
    assert names.count("base/layer.tar") == 1
    assert [m["RepoTags"] for m in manifest] == [["golang:1.24-alpine"], ["alpine:latest"]]
    assert repositories == {"golang": {"1.24-alpine": "go"}, "alpine": {"latest": "base"}}
    info = bundle.read_bundle_info(out_path)  # no tutor-bundle.json: read as a plain `docker save`
    assert info.names == ("golang:1.24-alpine", "alpine:latest") and not info.from_tutor


def test_what_is_not_a_bundle_is_said_plainly(tmp_path):
    with pytest.raises(bundle.BundleError, match="no bundle at"):
        bundle.read_bundle_info(tmp_path / "missing.tar")
    junk = tmp_path / "junk.tar"
    junk.write_bytes(os.urandom(4096))
    with pytest.raises(bundle.BundleError, match="is not an image bundle"):
        bundle.read_bundle_info(junk)
    empty = tmp_path / "empty.tar"
    with tarfile.open(empty, "w"):
        pass
    with pytest.raises(bundle.BundleError, match="no manifest.json"):
        bundle.read_bundle_info(empty)


def test_serve_finishes_a_browser_seat_reset_that_was_interrupted(tmp_path):
    from tutor.workshop import browser_seat
    from tutor.workshop.config import hash_pin

    root = tmp_path / "seats"
    home = root / "room-otter-01"
    seat_data = home / "data" / "seats"
    (seat_data / "room-otter-01" / "workspace" / "x").mkdir(parents=True)
    (seat_data / "room-otter-01" / "session.json").write_text(json.dumps({"session": "20260101-090000-abcd", "started": 1.0}))
    (seat_data / ".room-otter-01.reset.json").write_text(json.dumps({"session": "20260101-090000-abcd", "reason": "closed", "exported": None}))
    (root / "room-heron-02").mkdir()  # a seat with nothing pending
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'seat = "room"\npin_hash = "{hash_pin("7391")}"\nexport_dir = "exports"\nengine = "{NO_ENGINE}"\n'
    )
    assert browser_seat.pending_seats(root) == ["room-otter-01"]
    done = browser_seat.finish_pending_resets(root, config)
    assert [seat for seat, _ in done] == ["room-otter-01"]
    exported = tmp_path / "exports" / "room-otter-01_20260101-090000-abcd.json"
    assert json.loads(exported.read_text())["reason"] == "closed"
    assert browser_seat.pending_seats(root) == []
    assert list((seat_data / "room-otter-01" / "workspace").iterdir()) == []
