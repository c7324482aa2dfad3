"""Serving a seat in a process of its own.

A process learns its seat once, from its environment (``Seat.from_environment``), and never
changes it: progress, workspace, tags and rules all follow from it. A kiosk or a browser seat that
is to serve another seat starts the tutor again with that seat's environment and waits for it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence

from tutor.seat import Seat


def serve(seat: Seat, argv: Sequence[str], base: Mapping[str, str] | None = None) -> int:
    """Run ``argv`` as the process serving ``seat`` (same terminal or pipes); its exit status."""
    env = seat.environment(os.environ if base is None else base)
    if Seat.from_environment(seat.engine, env) != seat:  # the child would not be that seat: it would start another
        raise ValueError(f"seat {seat.name!r} cannot be described by environment variables")
    proc = subprocess.Popen(list(argv), env=env)
    while True:
        try:
            return proc.wait()
        except KeyboardInterrupt:
            continue  # the seat's process decides when it ends (a kiosk's reset must finish)
