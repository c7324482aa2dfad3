"""What `tutor doctor` says about an engine's BuildKit and age."""

from __future__ import annotations

from tutor.commands.doctor import render
from tutor.engine.doctor import DoctorReport, EngineInfo, Problem, buildkit_route


def test_buildkit_goes_through_buildx_when_the_cli_has_it():
    assert buildkit_route("26.1.5+dfsg1", "graphdriver", "0.13.1") == "buildx 0.13.1 (docker buildx build)"
    assert buildkit_route("26.1.5", "containerd", "0.13.1") == "buildx 0.13.1 (docker buildx build)"


def test_without_buildx_the_engine_alone_builds_except_on_a_26_containerd_store():
    assert buildkit_route("26.1.5", "graphdriver", None) == "the engine alone (its build API, version 2)"
    assert buildkit_route("27.5.1", "containerd", None) == "the engine alone (its build API, version 2)"
    assert buildkit_route("26.1.5", "containerd", None) is None  # moby#47717, fixed in 27


def test_an_engine_before_23_has_no_buildkit_without_buildx():
    assert buildkit_route("20.10.24+dfsg1", "graphdriver", None) is None
    assert buildkit_route(None, None, None) is None


def test_the_report_names_store_buildkit_and_notes_apart_from_problems():
    report = DoctorReport(
        EngineInfo("unix:///x.sock", True, "20.10.24", "1.41", "overlay2", "/var/lib/docker", None, "graphdriver", None),
        problems=(Problem("Docker 20.10.24 is out of support", "Upgrade the engine", blocking=False),),
    )
    text = "\n".join(render(report))
    assert "overlay2, classic image store" in text
    assert "buildkit    not available" in text
    assert "note:    Docker 20.10.24 is out of support" in text
    assert "ready for the course" in text  # a note blocks nothing
