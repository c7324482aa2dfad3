"""A private engine for the benchmarks: same dockerd, same disk, nobody else's builds or cleanups.

On a machine where others build and test on the main engine, their cleanups can remove a
benchmark's images mid-build ("unknown parent image ID"). ``python -m benchmarks --private-engine``
starts a second dockerd (classic store, its own data root, socket and bridge, as
tests/second_engine.py does), loads the course's base images from the main engine into it, and
points both the tutor and the docker CLI at it through DOCKER_HOST. The machine and its load are
still shared: the load averages say so.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from tests.second_engine import second_engine
from tutor.engine.baseimages import COURSE_BASE_IMAGES


@contextmanager
def private_engine() -> Iterator[str]:
    """DOCKER_HOST set to a started private engine holding the base images; all undone after."""
    saved = os.environ.get("DOCKER_HOST")
    with second_engine() as engine:
        save = subprocess.Popen(["docker", "save", *COURSE_BASE_IMAGES], stdout=subprocess.PIPE)
        load = subprocess.run(
            ["docker", "load", "-q"], stdin=save.stdout, capture_output=True, text=True,
            env={**os.environ, "DOCKER_HOST": engine.url},
        )  # fmt: skip
        save.wait()
        if save.returncode != 0 or load.returncode != 0:
            raise RuntimeError(f"could not load the base images into the private engine: {load.stderr.strip()}")
        os.environ["DOCKER_HOST"] = engine.url
        try:
            yield engine.url
        finally:
            if saved is None:
                os.environ.pop("DOCKER_HOST", None)
            else:
                os.environ["DOCKER_HOST"] = saved
