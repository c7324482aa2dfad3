"""A workshop engine's line of builds: a few at once, the others told how many are ahead, and a
ticket whose process died never blocks the room. Real processes, real files; the waiting is
observed through the events, never timed."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from tutor.engine.build import Build, BuildRequest
from tutor.engine.build_queue import BuildQueue, ahead_of, leave, wait_turn
from tutor.engine.events import BuildFailed, BuildQueued
from tutor.seat import Seat


def take(queue: BuildQueue) -> Path:
    """A ticket at once (the line is short enough)."""
    waiting = wait_turn(queue, lambda: False)
    try:
        next(waiting)
    except StopIteration as done:
        assert isinstance(done.value, Path)
        return done.value
    raise AssertionError("had to wait")


def test_a_build_waits_while_the_slots_are_taken_and_goes_when_one_frees(tmp_path: Path) -> None:
    queue = BuildQueue(tmp_path / "line", slots=2)
    first, second = take(queue), take(queue)
    told: list[BuildQueued] = []
    went = threading.Event()
    looks: list[int] = []

    def third() -> None:
        waiting = wait_turn(queue, lambda: False, sleep=lambda _s: looks.append(1) or release.wait())
        try:
            while True:
                told.append(next(waiting))
        except StopIteration as done:
            assert isinstance(done.value, Path)
            leave(done.value)
            went.set()

    release = threading.Event()
    worker = threading.Thread(target=third)
    worker.start()
    while not told:  # state, not time: the third build said it waits
        threading.Event().wait(0.01)
    assert told == [BuildQueued(ahead=2, slots=2)] and not went.is_set()
    leave(first)
    release.set()
    worker.join(timeout=30)
    assert went.is_set() and told == [BuildQueued(ahead=2, slots=2)]
    leave(second)
    assert list((tmp_path / "line").iterdir()) == []


def test_a_ticket_of_a_dead_process_does_not_count(tmp_path: Path) -> None:
    queue = BuildQueue(tmp_path / "line", slots=1)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead = tmp_path / "line" / f"{0:020d}-{int(gone.stdout)}-1-deadbeef.ticket"
    dead.parent.mkdir(parents=True)
    dead.touch()  # its process ended without giving it back
    mine = take(queue)
    assert ahead_of(mine) == 0
    leave(mine)


def test_cancelling_while_waiting_gives_the_ticket_back_and_says_so(tmp_path: Path) -> None:
    queue = BuildQueue(tmp_path / "line", slots=1)
    holder = take(queue)
    request = BuildRequest(tmp_path, queue=queue)
    build = Build(request)
    events = build.events()
    first = next(events)
    assert first == BuildQueued(ahead=1, slots=1)
    build.cancel()
    rest = list(events)
    assert len(rest) == 1 and isinstance(rest[0], BuildFailed) and rest[0].cancelled
    assert sorted(p.name for p in (tmp_path / "line").iterdir()) == [holder.name]
    leave(holder)


def test_the_seat_process_learns_its_line_from_its_environment(tmp_path: Path) -> None:
    queue = BuildQueue(tmp_path / "room" / ".build-queue" / "e1", 3)
    env = Seat("s1", True, (18760, 18769), None, tmp_path / "room" / "s1", queue).environment({})
    assert Seat.from_environment(environ=env).build_queue == queue
    assert Seat.from_environment(environ={}).build_queue is None
    assert BuildQueue.from_setting("zero:/x") is None and BuildQueue.from_setting("0:/x") is None
