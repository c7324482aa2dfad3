"""Which builder: BuildKit through buildx, through the engine's API, or a clear refusal with the fix."""

from __future__ import annotations

from tutor.engine.builders import BUILDKIT_FIX, buildkit_problem


def test_buildx_builds_anywhere():
    assert buildkit_problem(20, "graphdriver", "20.10.24", "0.13.1") is None
    assert buildkit_problem(26, "containerd", "26.1.5", "0.13.1") is None


def test_the_engine_api_builds_without_buildx_on_23_and_later():
    assert buildkit_problem(26, "graphdriver", "26.1.5", None) is None
    assert buildkit_problem(27, "containerd", "27.3.1", None) is None


def test_an_old_buildx_is_named():
    problem = buildkit_problem(20, "graphdriver", "20.10.24", "0.10.4")
    assert problem == "Docker 20.10.24 builds with BuildKit only through buildx, and the docker CLI's buildx is 0.10.4 (0.12 or later is needed)"


def test_26_on_the_containerd_store_without_buildx_says_why_and_how():
    problem = buildkit_problem(26, "containerd", "26.1.5", None)
    assert problem is not None and "moby#47717" in problem and "buildx plugin is not installed" in problem
    assert "--builder classic" in BUILDKIT_FIX and "docker-buildx" in BUILDKIT_FIX
