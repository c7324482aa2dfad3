"""Private engines for the pool's tests and benchmark: started as tests/second_engine.py does,
with the course's base images loaded from the main engine (read only), and their bridges open
to traffic between their own containers.

A private engine runs with ``--iptables=false`` (it must not touch the main engine's chains), but
where the main engine set the FORWARD policy to DROP and bridged traffic passes iptables
(``br_netfilter``), two containers on the private bridge cannot talk: an engine-side probe (a
helper container asking the learner's) would see nothing. ``open_bridge`` accepts that bridge's
own traffic, as a real engine's rules do, and takes the rule away after.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from tests.second_engine import SecondEngine, second_engine
from tutor.engine.course_images import COURSE_BASE_IMAGES

MAIN_ENGINE = "unix:///var/run/docker.sock"


@contextmanager
def open_bridge(bridge: str) -> Iterator[None]:
    rule = ["FORWARD", "-i", bridge, "-o", bridge, "-j", "ACCEPT"]
    added = shutil.which("iptables") is not None and (
        subprocess.run(["iptables", "-I", *rule], capture_output=True).returncode == 0
    )
    try:
        yield
    finally:
        if added:
            subprocess.run(["iptables", "-D", *rule], capture_output=True)


def load_base_images(url: str, source: str = MAIN_ENGINE) -> None:
    """``docker save`` from ``source`` piped into ``docker load`` on ``url``."""
    save = subprocess.Popen(
        ["docker", "save", *COURSE_BASE_IMAGES], stdout=subprocess.PIPE, env={**os.environ, "DOCKER_HOST": source}
    )
    load = subprocess.run(
        ["docker", "load", "-q"], stdin=save.stdout, capture_output=True, text=True, env={**os.environ, "DOCKER_HOST": url}
    )
    save.wait()
    if save.returncode != 0 or load.returncode != 0:
        raise RuntimeError(f"could not load the base images into {url}: {load.stderr.strip()}")


@contextmanager
def pool_engines(count: int, images: bool = True) -> Iterator[list[SecondEngine]]:
    """``count`` started private engines on loopback TCP, base images loaded, bridges open."""
    with ExitStack() as stack:
        engines = []
        for _ in range(count):
            engine = stack.enter_context(second_engine(tcp=True))
            stack.enter_context(open_bridge(engine.bridge))
            if images:
                load_base_images(engine.url)
            engines.append(engine)
        yield engines
