"""Kiosk mode: the tutor on a shared workshop machine (or a browser seat) that learners cannot leave.

What changes from the ordinary app:

- A welcome screen with the seat's name comes first.  The seat's preflight
  (engine, base images, export folder, ports) runs at start and on every engine
  check: a seat that is not ready says "seat not ready: ..." with the fix, and
  does not let a learner start into a course that would fail mid-lesson.
- Quit (ctrl+q) asks for the instructor PIN and opens the instructor menu: exit
  the kiosk, or reset the seat.  Suspend (ctrl+z), the command palette's Quit
  and Screenshot, links that would open a browser, and ``App.suspend`` (which
  could hand the terminal to another program) are disabled.
- Reset (by PIN, after the idle timeout, or when the learner finishes) exports
  the session, removes the seat's containers, images and files, and returns to
  the welcome screen for the next learner.
- Exercise runs follow the seat's rules (``tutor.workshop.safety``): builds only
  from inside the seat's workspace, containers published on 127.0.0.1 from the
  configured port range.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import SuspendNotSupported, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tutor.course.model import Course, Exercise, Lesson
from tutor.engine.doctor import DoctorReport
from tutor.seat import Seat
from tutor.ui.app import ENGINE_CHECK_SECONDS, SCREEN_CSS, TutorApp
from tutor.ui.backend import Backend
from tutor.ui.messages import EngineStatusChanged
from tutor.ui.screens.course_map import CourseMapScreen
from tutor.ui.screens.docker_prompt import PromptMemory
from tutor.ui.screens.kiosk import (
    FinishScreen,
    InstructorMenu,
    PinScreen,
    PreflightDone,
    ResettingScreen,
    SeatResetDone,
    SeatResetFailed,
    StartSession,
    WelcomeScreen,
)
from tutor.ui.screens.lesson import LessonScreen
from tutor.workshop.config import KioskConfig, apply_lessons, verify_pin
from tutor.workshop.preflight import PreflightResult, preflight
from tutor.workshop.reset import ResetError, ResetResult, pending_reset, reset_seat, session
from tutor.workshop.safety import SeatExerciseRun

if TYPE_CHECKING:
    from tutor.workshop.docker_prompt_rules import PromptRules

MAX_PIN_FAILURES = 5  # then the PIN prompt rests for PIN_LOCKOUT_SECONDS
PIN_LOCKOUT_SECONDS = 60.0
IDLE_WARNING_SECONDS = 60.0
# Palette entries that would leave the app or write files on the seat's machine.
BLOCKED_COMMANDS = frozenset({"Quit", "Screenshot"})


class KioskApp(TutorApp):
    CSS_PATH = ["app.tcss", "kiosk.tcss", *SCREEN_CSS]
    # The docker prompt is where a seat without a shell types docker commands: its key always shows.
    FOOTER_PINS = ("ctrl+q", "question_mark", "escape", "d")
    BINDINGS = [
        Binding(
            "ctrl+q",
            "quit",
            "Staff",
            tooltip="Instructor: reset this seat or leave the kiosk (asks for the PIN)",
            priority=True,
        ),
        Binding("ctrl+f", "finish", "Finish", tooltip="Finish your session: progress is saved and the seat starts over"),
        Binding("ctrl+z", "suspend_process", show=False, tooltip="Suspending is disabled at a workshop seat"),
    ]

    def __init__(
        self,
        config: KioskConfig,
        lessons_dir: Path | None = None,
        backend: Backend | None = None,
        engine_check_seconds: float = ENGINE_CHECK_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
        idle_check_seconds: float = 1.0,
        seat: Seat | None = None,
    ) -> None:
        self.kiosk_config = config  # before super().__init__: the course setter reads it
        super().__init__(
            lessons_dir=lessons_dir or config.course,
            backend=backend,
            engine_check_seconds=engine_check_seconds,
            seat=seat,
            builder=config.builder,
        )
        self.sub_title = f"seat {self.seat.name}"  # in every screen's header: which seat is which, at a glance
        self.preflight: PreflightResult | None = None
        self.last_reset: ResetResult | None = None
        self._clock = clock
        self._idle_check_seconds = idle_check_seconds
        self._last_input = clock()
        self._idle_warned = False
        self._resetting = False
        self._pin_failures = 0
        self._pin_locked_until = 0.0

    @property
    def host_port_range(self) -> tuple[int, int] | None:
        return self.kiosk_config.port_range  # seats that share an engine do not fight over 8080

    # -- the course the config selects --------------------------------------------------------------

    @property
    def course(self) -> Course:
        return self._kiosk_course

    @course.setter
    def course(self, value: Course) -> None:
        # TutorApp loads (and reloads) the whole course: keep the config's lessons, in its order.
        self._kiosk_course = apply_lessons(value, self.kiosk_config.lessons)

    # -- start ------------------------------------------------------------------------------------------

    def on_mount(self) -> None:
        # TutorApp.on_mount runs after this one (Textual calls each class's handler): push the
        # welcome screen once it has put the course map (and any resumed lesson) in place.
        self.call_later(self._after_start)

    def _after_start(self) -> None:
        if self.kiosk_config.idle_timeout > 0:
            self.set_interval(self._idle_check_seconds, self._check_idle)
        if pending_reset(self.seat.name):
            self._start_reset("interrupted")  # a reset that crashed is finished before anyone sits down
            return
        self._show_welcome()

    def _show_welcome(self) -> None:
        self.push_screen(WelcomeScreen(self.seat.name, self.course, self.preflight, resuming=self.progress.current is not None))

    @property
    def in_session(self) -> bool:
        """A learner is using the seat: past the welcome screen and not being reset."""
        return not self._resetting and not any(isinstance(s, WelcomeScreen) for s in self.screen_stack)

    def on_start_session(self, message: StartSession) -> None:
        if self.preflight is None:
            self.notify("Checking this seat… one moment.", title="Seat")
            return
        if not self.preflight.ok:
            self.notify(
                f"{self.preflight.headline()}. Ask your instructor.", title="Seat not ready", severity="error", timeout=10
            )
            return
        session(self.seat.name)  # the session (and its export file name) starts now
        self._touch()
        while any(isinstance(s, WelcomeScreen) for s in self.screen_stack):
            self.pop_screen()

    # -- preflight ---------------------------------------------------------------------------------------

    def on_engine_status_changed(self, message: EngineStatusChanged) -> None:
        # Runs before TutorApp's handler: engine_report is still the previous check's.
        before, now = self.engine_report, message.report
        if before is not None and before.engine.reachable and not now.engine.reachable:
            why = now.problems[0].what if now.problems else f"no answer from {now.engine.url}"
            self.notify(
                f"The engine this seat builds on stopped answering: {why} Your progress is saved. "
                "Ask your instructor: builds and checks work again once it answers.",
                title="Engine down",
                severity="error",
                timeout=30,
            )
        self.run_preflight(message.report)

    @work(thread=True, exclusive=True, exit_on_error=False, group="preflight")
    def run_preflight(self, report: DoctorReport) -> None:
        self.post_message(PreflightDone(preflight(self.kiosk_config, self.course, report)))

    def on_preflight_done(self, message: PreflightDone) -> None:
        self.preflight = message.result
        for screen in self.screen_stack:
            if isinstance(screen, WelcomeScreen):
                screen.show_preflight(message.result)

    # -- idle ---------------------------------------------------------------------------------------------

    def _touch(self) -> None:
        self._last_input = self._clock()
        self._idle_warned = False

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)):
            self._touch()
        await super().on_event(event)

    def _building(self) -> bool:
        # A build, or a docker command typed at the prompt (a cold `docker build`), is not idleness.
        return any((isinstance(s, LessonScreen) and s.building) or getattr(s, "running", False) is True for s in self.screen_stack)

    def _check_idle(self) -> None:
        timeout = self.kiosk_config.idle_timeout
        if timeout <= 0 or not self.in_session:
            return
        if self._building():
            self._touch()  # a long cold build is not idleness
            return
        idle = self._clock() - self._last_input
        if idle >= timeout:
            self._start_reset("idle")
            return
        warning = min(IDLE_WARNING_SECONDS, timeout / 4)
        if idle >= timeout - warning and not self._idle_warned:
            self._idle_warned = True
            self.notify(
                f"Nobody has used this seat for a while: it starts over in {max(1, round(timeout - idle))} s. "
                "Press any key to stay.",
                title="Still there?",
                severity="warning",
                timeout=warning,
            )

    # -- reset ---------------------------------------------------------------------------------------------

    def _start_reset(self, reason: str) -> None:
        if self._resetting:
            return
        self._resetting = True
        for screen in self.screen_stack:
            if isinstance(screen, LessonScreen) and screen.building:
                screen.action_cancel_build()
        self.push_screen(ResettingScreen(reason))
        self._reset_worker(reason)

    @work(thread=True, exclusive=True, exit_on_error=False, group="reset")
    def _reset_worker(self, reason: str) -> None:
        config = self.kiosk_config
        try:
            result = reset_seat(self.seat.name, config.export_dir, engine=config.engine, course=self.course, reason=reason)
        except ResetError as exc:
            self.post_message(SeatResetFailed(exc.message, exc.fix))
            return
        self.post_message(SeatResetDone(result))

    def on_seat_reset_done(self, message: SeatResetDone) -> None:
        self._resetting = False
        self.last_reset = message.result
        self.docker_prompt_memory = PromptMemory()  # the next learner sees none of these commands
        self.progress, _ = self.progress_store.load()
        self._touch()
        # Back to the course map TutorApp keeps at the bottom of the stack, fresh, under the welcome.
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if isinstance(self.screen, CourseMapScreen):
            self.screen.refresh_course(self.course, self._states(), self._current_lesson())
        else:
            self.push_screen(CourseMapScreen(self.course, self._states(), self._current_lesson()))
        self._show_welcome()
        if message.result.engine.problem:
            self.notify(message.result.engine.problem, title="Seat reset: engine not cleaned", severity="warning", timeout=15)
        else:
            self.notify(message.result.summary(), title="Seat reset", timeout=6)

    def _reset_stopped(self, message: str, fix: str) -> None:
        self._resetting = False
        self._touch()  # not again at once: the idle timer starts over
        if isinstance(self.screen, ResettingScreen):
            self.pop_screen()
        self.notify(f"{message}\nFix: {fix}", title="Seat not reset", severity="error", timeout=20)

    def on_seat_reset_failed(self, message: SeatResetFailed) -> None:
        self._reset_stopped(message.message, message.fix)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        if event.worker.group == "reset":
            self._reset_stopped(f"the reset stopped on an unexpected error: {event.worker.error}", "try again; `tutor kiosk reset` does the same from a shell")
        elif event.worker.group == "preflight":
            self.notify(f"The seat check failed: {event.worker.error}", title="Seat", severity="error")

    # -- the instructor -----------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """ctrl+q: the instructor menu, behind the PIN."""
        self.ask_pin("Enter the PIN to reset this seat or leave the kiosk.", self._instructor_menu)

    def ask_pin(self, purpose: str, then: Callable[[], None]) -> None:
        if any(isinstance(s, (PinScreen, InstructorMenu, ResettingScreen)) for s in self.screen_stack):
            return
        wait = self._pin_locked_until - self._clock()
        if wait > 0:
            self.notify(f"Too many wrong PINs: try again in {round(wait)} s.", title="PIN", severity="error")
            return

        def checked(pin: str | None) -> None:
            if not pin:
                return
            if verify_pin(pin, self.kiosk_config.pin_hash):
                self._pin_failures = 0
                then()
                return
            self._pin_failures += 1
            if self._pin_failures >= MAX_PIN_FAILURES:
                self._pin_failures = 0
                self._pin_locked_until = self._clock() + PIN_LOCKOUT_SECONDS
            self.notify("Wrong PIN.", title="PIN", severity="error")

        self.push_screen(PinScreen(purpose), checked)

    def _instructor_menu(self) -> None:
        def chosen(choice: str | None) -> None:
            if choice == "exit":
                self.exit(return_code=0)
            elif choice == "reset":
                self._start_reset("instructor")

        self.push_screen(InstructorMenu(self.seat.name, self.kiosk_config, self.preflight, self.last_reset), chosen)

    # -- the learner -----------------------------------------------------------------------------------------

    def prompt_rules(self) -> PromptRules:
        return replace(super().prompt_rules(), workshop=True)  # a kiosk seat is a workshop seat, whatever its environment

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "docker_prompt" and not self.in_session:
            return False  # not offered on the welcome screen: it opens in a session
        return super().check_action(action, parameters)

    def action_docker_prompt(self) -> None:
        if not self.in_session:
            self.notify("Start a session first (Enter on the welcome screen).", title="Docker")
            return
        super().action_docker_prompt()

    def action_finish(self) -> None:
        if not self.in_session:
            self.notify("Start a session first (Enter on the welcome screen).", title="Finish")
            return
        if any(isinstance(s, FinishScreen) for s in self.screen_stack):
            return

        def confirmed(finish: bool | None) -> None:
            if finish:
                self._start_reset("finish")

        self.push_screen(FinishScreen(), confirmed)

    def new_exercise_run(
        self, lesson: Lesson, exercise: Exercise, workspace: Path, prediction: Mapping[int, str] | None = None
    ) -> SeatExerciseRun:
        return SeatExerciseRun(
            exercise,
            workspace,
            lesson.id,
            engine=self.backend.engine,
            build_factory=self.backend.new_build,
            prediction=prediction,
            seat=self.seat.name,
            workspace_root=self.seat.workspace,
            port_range=self.kiosk_config.port_range,
            queue=self.seat.build_queue,
        )

    # -- ways out, closed ----------------------------------------------------------------------------------

    def action_suspend_process(self) -> None:
        self.notify("Suspending the tutor is disabled at a workshop seat.", title="Kiosk")

    @contextmanager
    def suspend(self) -> Iterator[None]:
        # Handing the terminal to another program (an editor, a pager) could reach a shell.
        raise SuspendNotSupported("a kiosk seat never hands its terminal to another program")
        yield  # pragma: no cover - a generator for contextmanager

    def action_help_quit(self) -> None:
        self.notify("This is a workshop seat: ask your instructor if you need to leave it.", title="Kiosk")

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        self.notify("Screenshots are disabled at a workshop seat.", title="Kiosk")

    def open_url(self, url: str, *, new_tab: bool = True) -> None:
        self.notify(f"Links open outside the tutor and are disabled at this seat: {url}", title="Link", timeout=8)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title not in BLOCKED_COMMANDS:
                yield command
