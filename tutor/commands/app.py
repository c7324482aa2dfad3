"""`tutor` with no command: the course in a terminal UI."""

from __future__ import annotations

import sys
from pathlib import Path

from tutor.commands.exit_codes import EXIT_OK, EXIT_USAGE


def run(args) -> int:
    lessons = Path(args.lessons).expanduser() if getattr(args, "lessons", None) else None
    if lessons is not None and not lessons.is_dir():
        print(f"error: no course folder at {lessons}", file=sys.stderr)
        return EXIT_USAGE
    from tutor.engine.build import BUILDERS, default_builder

    builder = (getattr(args, "builder", None) or default_builder()).strip().lower()
    if builder not in BUILDERS:
        print(f"error: --builder {builder}: choose one of {', '.join(BUILDERS)}", file=sys.stderr)
        return EXIT_USAGE
    from tutor.ui import quiet_gc

    quiet_gc.pause_for_startup()  # until the course map is drawn (TutorApp.on_mount settles)
    from tutor.seat import Seat
    from tutor.ui.app import TutorApp
    from tutor.ui.backend import EngineBackend

    engine = getattr(args, "engine", None)
    seat = Seat.from_environment(engine)  # learnt once, here; the app hands it to what needs it
    app = TutorApp(lessons_dir=lessons, backend=EngineBackend(engine), builder=builder, seat=seat)
    app.run()
    return int(app.return_code or EXIT_OK)
