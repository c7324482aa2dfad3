"""Engine 29 omits empty fields from inspect (Cmd, Entrypoint, Env, Labels, WorkingDir, ...):
every reader of an inspect answer takes a missing field as empty."""

from __future__ import annotations

from tutor.engine.baseimages import _classify
from tutor.engine.containers import info_from_inspect, info_from_summary
from tutor.engine.image_size import layers_size, store_of_info
from tutor.engine.seat_race import _entry_path
from tutor.workshop.bundle import _layers_of

# An image and a container as Engine 29 answers for `FROM scratch` + COPY, nothing else set.
IMAGE_29 = {"Id": "sha256:" + "a" * 64, "RepoTags": ["golang:1.24-alpine"], "Config": {}, "RootFS": {"Type": "layers"}}
CONTAINER_29 = {"Id": "b" * 64, "Name": "/c", "State": {"Status": "exited"}, "Config": {}, "NetworkSettings": {}}


class _Api:
    def inspect_image(self, ref: str) -> dict:
        return {"Id": IMAGE_29["Id"]}  # not even a Config


def test_an_image_without_labels_or_layers_reads_as_empty():
    status = _classify("golang:1.24-alpine", IMAGE_29)
    assert status.state == "present" and status.note == ""
    assert _layers_of(IMAGE_29) == ()
    assert _layers_of({"Id": "x"}) == ()


def test_a_container_without_config_fields_reads_as_empty():
    info = info_from_inspect(CONTAINER_29)
    assert info.ports == () and info.exposed == () and info.labels == {}
    summary = info_from_summary({"Id": "c" * 64})
    assert summary.ports == () and summary.labels == {}


def test_an_image_without_cmd_or_entrypoint_runs_no_known_binary():
    assert _entry_path(_Api(), "x") is None  # type: ignore[arg-type]


def test_history_and_info_without_sizes_or_driver_status():
    assert layers_size([{"Id": "x"}, {"Size": None}, {"Size": 5}]) == 5
    assert store_of_info({}) == "graphdriver"
    assert store_of_info({"DriverStatus": None}) == "graphdriver"
    assert store_of_info({"DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]]}) == "containerd"
