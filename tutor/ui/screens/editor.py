"""The editor: the exercise's files in the learner's workspace, with hadolint beside the lines.

Pushed over the lesson screen.  It dismisses with an ``EditorClosed`` that says
whether the learner asked to build (ctrl+b) and which files were written.
Files are only ever written inside the workspace, each atomically (a temporary
file beside it, then a rename), so a crash never leaves half a Dockerfile.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.geometry import Offset
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.strip import Strip
from textual.widgets import Button, ContentSwitcher, Header, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from tutor import atomic
from tutor.course.checks import CheckResult, run_hadolint
from tutor.engine.dockerfile import plan
from tutor.engine.record import BuildRecord
from tutor.ui.dockerfile_language import CodeEditor
from tutor.ui.widgets.footer import KeysFooter
from tutor.ui.widgets.lint_view import LintFinding, LintView, findings_at, gutter_marks, map_findings

MAX_FILE_BYTES = 256 * 1024  # larger files are not exercise files a learner edits by hand
MAX_FILES = 40
SKIPPED_SUFFIXES = (".before-solution",)
NARROW_WIDTH = 100
ALWAYS_OFFERED = (".dockerignore",)  # offered even when missing: saving it creates it


# -- the files -------------------------------------------------------------------------------------


def _is_text(path: Path) -> bool:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return False
        head = path.read_bytes()[:8192]
    except OSError:
        return False
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3  # a multi-byte character cut by the 8 KiB window
    return True


def workspace_files(workspace: Path, dockerfile: str = "Dockerfile") -> list[str]:
    """The files a learner may edit: the Dockerfile first, then the workspace's other text files.

    Hidden folders (``.git``) and backups are left out; ``.dockerignore`` is
    offered even when it does not exist yet.
    """
    root = Path(workspace)
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath, name)
            relative = path.relative_to(root).as_posix()
            if name.endswith(SKIPPED_SUFFIXES) or path.is_symlink() or not _is_text(path):
                continue
            found.append(relative)
    for name in ALWAYS_OFFERED:
        if name not in found and name != dockerfile:
            found.append(name)

    def order(name: str) -> tuple[int, str]:
        if name == dockerfile:
            return (0, name)
        base = name.rsplit("/", 1)[-1]
        return (1 if base.startswith("Dockerfile") else 2, name)

    return sorted(found, key=order)[:MAX_FILES]


def inside(workspace: Path, name: str) -> Path:
    """``workspace/name``, refusing any name that leads out of the workspace."""
    root = Path(workspace).resolve()
    target = (root / name).resolve()
    if target != root and root not in target.parents:
        raise ValueError(f"{name} is outside the workspace {root}")
    if target == root:
        raise ValueError(f"{name!r} is not a file name")
    return target


def save_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, keeping the file's permissions (OSError says why not)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o644
    atomic.write_text(path, text, mode)

def failure_location(
    dockerfile: str, text: str, record: BuildRecord | None, results: Iterable[CheckResult] = ()
) -> tuple[str, int] | None:
    """Where the editor should open after a build: the failed step's line, else the first failed check's line."""
    failure = record.failure if record is not None else None
    if failure is not None and not failure.cancelled:
        if failure.line:
            return dockerfile, failure.line
        if failure.step:
            for step in plan(text):
                if step.step == failure.step:
                    return dockerfile, step.line
    for result in results:
        if not result.passed and result.line:
            return dockerfile, result.line
    return None


# -- results and messages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EditorClosed:
    build: bool  # the learner pressed ctrl+b: the lesson screen builds now
    saved: tuple[str, ...] = ()  # files written while the editor was open
    current: str | None = field(default=None, compare=False)  # the file open at close: the next visit opens it


@dataclass
class LintReady(Message):
    """hadolint finished on the saved Dockerfile (posted from the lint worker)."""

    text: str  # the Dockerfile text that was linted
    findings: list[dict] | None  # hadolint's JSON findings; None when it could not run
    problem: str | None = None  # why it could not run


# -- the editor widget: a CodeEditor with marks in its line-number gutter -------------------------------


class LintedEditor(CodeEditor):
    """Shows a mark beside the line number of every line hadolint has something to say about."""

    def __init__(self, text: str = "", **kwargs) -> None:
        super().__init__(text, **kwargs)
        self.marks: dict[int, tuple[str, str]] = {}  # 0-based line -> (mark, style)

    def set_marks(self, marks: dict[int, tuple[str, str]]) -> None:
        if marks != self.marks:
            self.marks = dict(marks)
            self.refresh()

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if not self.marks or not self.show_line_numbers:
            return strip
        offset_y = y + self.scroll_offset.y
        wrapped = self.wrapped_document
        if offset_y >= wrapped.height:
            return strip
        row, _ = wrapped.offset_to_location(Offset(0, offset_y))
        mark = self.marks.get(row)
        if mark is None or wrapped.location_to_offset((row, 0)).y != offset_y:
            return strip  # no finding here, or the second part of a wrapped line
        column = self.gutter_width - 2  # the gutter is "<number>  ": the mark takes the first blank
        under = strip.crop(column, column + 1)
        base = next((s.style for s in under if s.style is not None), None) or Style()
        glyph, style = mark
        return Strip.join(
            [strip.crop(0, column), Strip([Segment(glyph, base + Style.parse(style))], 1), strip.crop(column + 1)]
        )


# -- small dialogs -----------------------------------------------------------------------------------


class SaveChangesScreen(ModalScreen[str]):
    """Unsaved changes on the way out: "save", "discard" or "cancel"."""

    DEFAULT_CSS = """
    SaveChangesScreen { align: center middle; }
    SaveChangesScreen #save-box { width: 64; max-width: 95%; height: auto; border: thick $warning; background: $surface; padding: 1 2; }
    SaveChangesScreen #save-buttons { height: auto; margin-top: 1; }
    SaveChangesScreen Button { margin-right: 1; }
    """
    BINDINGS = [
        Binding("s", "choose('save')", "Save", tooltip="Save the changes, then leave the editor"),
        Binding("d", "choose('discard')", "Discard", tooltip="Leave the editor without saving"),
        Binding("escape", "choose('cancel')", "Keep editing", tooltip="Stay in the editor"),
    ]

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names

    def compose(self) -> ComposeResult:
        with Vertical(id="save-box"):
            yield Static(Text("Unsaved changes", style="bold"))
            yield Static(f"{', '.join(self.names)} changed since the last save. Save before leaving?")
            with Horizontal(id="save-buttons"):
                yield Button("Save (s)", id="save", variant="primary")
                yield Button("Discard (d)", id="discard", variant="error")
                yield Button("Keep editing (esc)", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


class GoToLineScreen(ModalScreen[int | None]):
    """Asks for a line number between 1 and ``last``."""

    DEFAULT_CSS = """
    GoToLineScreen { align: center middle; }
    GoToLineScreen #goto-box { width: 40; height: auto; border: thick $primary; background: $surface; padding: 1 2; }
    GoToLineScreen #goto-problem { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", tooltip="Close without moving the cursor")]

    def __init__(self, last: int) -> None:
        super().__init__()
        self.last = max(1, last)

    def compose(self) -> ComposeResult:
        with Vertical(id="goto-box"):
            yield Label(f"Go to line (1-{self.last})")
            yield Input(placeholder=f"1-{self.last}", type="integer", id="goto-line")
            yield Static("", id="goto-problem")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            line = int(event.value.strip())
        except ValueError:
            self.query_one("#goto-problem", Static).update("Type a line number.")
            return
        if not 1 <= line <= self.last:
            self.query_one("#goto-problem", Static).update(f"The file has lines 1 to {self.last}.")
            return
        self.dismiss(line)

    def action_cancel(self) -> None:
        self.dismiss(None)


# -- the screen ---------------------------------------------------------------------------------------


class EditorScreen(Screen[EditorClosed]):
    CSS_PATH = "editor.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", tooltip="Save the changed files into your workspace"),
        Binding("ctrl+b", "save_and_build", "Save+build", tooltip="Save, go back to the lesson and build"),
        Binding("ctrl+g", "goto_line", "Go to line", tooltip="Move the cursor to a line number"),
        Binding("ctrl+n", "next_file", "Next file", tooltip="Edit the next file of the exercise"),
        Binding("escape", "back", "Back", tooltip="Back to the lesson (asks first when changes are unsaved)"),
    ]

    def __init__(
        self,
        workspace: Path,
        files: list[str],
        goto: tuple[str, int] | None = None,
        dockerfile: str = "Dockerfile",
        open_file: str | None = None,
    ) -> None:
        super().__init__()
        self.workspace = Path(workspace)
        self.dockerfile = dockerfile
        names = list(dict.fromkeys(files)) or [dockerfile]
        self.files = names
        self.goto = goto
        self.open_file = open_file  # without goto: the file to open first (the one last edited)
        self.saved_text: dict[str, str] = {}  # what is on disk, as last read or written
        self.unreadable: dict[str, str] = {}  # name -> why it cannot be edited
        self.saved: list[str] = []  # written during this visit, in order
        self.findings: list[LintFinding] = []
        self.current = names[0]
        self._lint_text: str | None = None
        self._shown_state: tuple[str, tuple[str, ...]] | None = None  # (open file, unsaved files) last drawn

    # -- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="editor-body"):
            with Vertical(id="editor-side"):
                yield Label("Files", id="files-title")
                yield OptionList(
                    *[Option(name, id=self._option_id(n)) for n, name in enumerate(self.files)], id="file-list"
                )
                yield Static(self._side_help(), id="editor-help")
            with Vertical(id="editor-main"):
                with ContentSwitcher(id="editors", initial=self._editor_id(0)):
                    for n, name in enumerate(self.files):
                        yield LintedEditor(
                            self._read(name),
                            filename=name,
                            id=self._editor_id(n),
                            show_line_numbers=True,
                            soft_wrap=False,
                            read_only=name in self.unreadable,
                        )
                yield Static("", id="editor-status")
                yield LintView(id="lint")
        yield KeysFooter()

    @staticmethod
    def _side_help() -> Text:
        text = Text(style="dim")
        text.append("ctrl+s save\nctrl+b save & build\nctrl+g go to line\nctrl+n next file\nesc back")
        return text

    @staticmethod
    def _editor_id(index: int) -> str:
        return f"editor-{index}"

    @staticmethod
    def _option_id(index: int) -> str:
        return f"file-{index}"

    def _read(self, name: str) -> str:
        try:
            path = inside(self.workspace, name)
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""  # a new file: saving creates it
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            self.unreadable[name] = f"{name} cannot be edited here: {exc}"
            text = ""
        self.saved_text[name] = text
        return text

    def on_mount(self) -> None:
        self.title = "Edit the exercise"
        self.sub_title = str(self.workspace)
        for why in self.unreadable.values():
            self.notify(why, title="Editor", severity="warning")
        self.query_one(LintView).show_problem("hadolint runs on the Dockerfile when it is saved.")
        self.set_class(self.app.size.width < NARROW_WIDTH, "narrow")
        self.call_after_refresh(self._open_at_start)
        self._start_lint(self.saved_text.get(self.dockerfile))

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW_WIDTH, "narrow")

    def _open_at_start(self) -> None:
        if self.goto is not None:
            name, line = self.goto
            self.show_file(name if name in self.files else self.files[0], line)
        elif self.open_file in self.files:
            self.show_file(self.open_file)
        else:
            self.show_file(self.files[0])

    # -- the open file ---------------------------------------------------------------------------------

    def editor_for(self, name: str) -> LintedEditor:
        return self.query_one(f"#{self._editor_id(self.files.index(name))}", LintedEditor)

    @property
    def editor(self) -> LintedEditor:
        return self.editor_for(self.current)

    def is_modified(self, name: str) -> bool:
        return self.editor_for(name).text != self.saved_text.get(name, "")

    @property
    def modified(self) -> list[str]:
        return [name for name in self.files if self.is_modified(name)]

    def show_file(self, name: str, line: int | None = None) -> None:
        """Open ``name`` (one of the files); with ``line``, put the cursor there (1-based)."""
        if name not in self.files:
            self.notify(f"{name} is not one of the exercise's files.", title="Editor", severity="warning")
            return
        self.current = name
        index = self.files.index(name)
        self.query_one(ContentSwitcher).current = self._editor_id(index)
        self.query_one("#file-list", OptionList).highlighted = index
        editor = self.editor
        if line is not None:
            row = min(max(line, 1), editor.document.line_count) - 1
            editor.move_cursor((row, 0), center=True)
        editor.focus()
        self._refresh_marks()

    def _refresh_marks(self) -> None:
        """File list marks, title and status line: what is unsaved, where the cursor is, what hadolint says."""
        state = (self.current, tuple(self.modified))
        if state == self._shown_state:
            self._update_status()  # typing within a file that was already marked: no layout work
            return
        self._shown_state = state
        file_list = self.query_one("#file-list", OptionList)
        for index, name in enumerate(self.files):
            prompt = Text(no_wrap=True, overflow="ellipsis")
            is_open = name == self.current
            # One column of marks: unsaved (●) matters most; else the open file (▸), also in colour.
            if self.is_modified(name):
                prompt.append("● ", style="bold yellow")
            else:
                prompt.append("▸ " if is_open else "  ", style="bold cyan")
            prompt.append(name, style="bold cyan" if is_open else "")
            if not (self.workspace / name).exists():
                prompt.append(" (new)", style="dim")
            file_list.replace_option_prompt_at_index(index, prompt)
        editor = self.editor
        unsaved = " ● unsaved" if self.is_modified(self.current) else ""
        editor.border_title = f"{self.current}{unsaved}"
        self.query_one("#editor-main").set_class(bool(unsaved), "modified")
        self._update_status()

    def _update_status(self) -> None:
        editor = self.editor
        row, column = editor.cursor_location
        status = Text()
        status.append(f"{self.current}  line {row + 1}, column {column + 1}", style="bold")
        if self.current in self.unreadable:
            status.append(f"  ·  {self.unreadable[self.current]}", style="red")
        elif self.current == self.dockerfile:
            here = findings_at(self.findings, row + 1)
            if here:
                first = here[0]
                status.append("  ·  ")
                status.append(f"{first.code}: {first.message}", style="yellow")
                if len(here) > 1:
                    status.append(f" (+{len(here) - 1} more)", style="dim")
        self.query_one("#editor-status", Static).update(status)

    @on(TextArea.Changed)
    def _changed(self, event: TextArea.Changed) -> None:
        self._refresh_marks()

    @on(TextArea.SelectionChanged)
    def _moved(self, event: TextArea.SelectionChanged) -> None:
        self._update_status()

    @on(OptionList.OptionSelected, "#file-list")
    def _file_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.show_file(self.files[event.option_index])

    @on(LintView.Chosen)
    def _finding_chosen(self, event: LintView.Chosen) -> None:
        self.show_file(self.dockerfile if self.dockerfile in self.files else self.current, event.finding.line)

    # -- saving --------------------------------------------------------------------------------------

    def save(self) -> bool:
        """Write every changed file; False (and a notice) when one could not be written."""
        written: list[str] = []
        for name in self.modified:
            if name in self.unreadable:
                continue
            text = self.editor_for(name).text
            try:
                save_text(inside(self.workspace, name), text)
            except (OSError, ValueError) as exc:
                self.notify(f"{name} was not saved: {exc}", title="Save", severity="error", timeout=10)
                self._refresh_marks()
                return False
            self.saved_text[name] = text
            written.append(name)
            if name not in self.saved:
                self.saved.append(name)
        self._refresh_marks()
        if written:
            self.notify(f"Saved {', '.join(written)}.", title="Save", timeout=3)
            if self.dockerfile in written:
                self._start_lint(self.saved_text[self.dockerfile])
        return True

    def action_save(self) -> None:
        if not self.modified:
            self.notify("Nothing to save: no file changed.", title="Save", timeout=3)
            return
        self.save()

    def action_save_and_build(self) -> None:
        if self.save():
            self.dismiss(EditorClosed(build=True, saved=tuple(self.saved), current=self.current))

    def action_back(self) -> None:
        changed = self.modified
        if not changed:
            self.dismiss(EditorClosed(build=False, saved=tuple(self.saved), current=self.current))
            return

        def decided(choice: str | None) -> None:
            if choice == "save":
                if self.save():
                    self.dismiss(EditorClosed(build=False, saved=tuple(self.saved), current=self.current))
            elif choice == "discard":
                self.dismiss(EditorClosed(build=False, saved=tuple(self.saved), current=self.current))
            else:
                self.editor.focus()

        self.app.push_screen(SaveChangesScreen(changed), decided)

    # -- moving around -----------------------------------------------------------------------------------

    def action_goto_line(self) -> None:
        editor = self.editor

        def chosen(line: int | None) -> None:
            if line is not None:
                self.show_file(self.current, line)
            else:
                editor.focus()

        self.app.push_screen(GoToLineScreen(editor.document.line_count), chosen)

    def action_next_file(self) -> None:
        index = (self.files.index(self.current) + 1) % len(self.files)
        self.show_file(self.files[index])

    # -- hadolint ----------------------------------------------------------------------------------------

    def _start_lint(self, text: str | None) -> None:
        if text is None or self.dockerfile not in self.files:
            return
        self._lint_text = text
        self.query_one(LintView).loading = True
        self._lint_worker(text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="lint")
    def _lint_worker(self, text: str) -> None:
        """Runs hadolint off the UI thread; only posts the outcome."""
        try:
            self.post_message(LintReady(text, run_hadolint(text), None))
        except RuntimeError as exc:
            self.post_message(LintReady(text, None, str(exc)))

    @on(LintReady)
    def _linted(self, message: LintReady) -> None:
        if message.text != self._lint_text:
            return  # an older save's result
        view = self.query_one(LintView)
        view.loading = False
        if message.findings is None:
            self.findings = []
            view.show_problem(f"hadolint did not run: {message.problem}")
        else:
            self.findings = map_findings(message.findings, message.text)
            view.show_findings(self.findings, f"the saved {self.dockerfile}")
        if self.dockerfile in self.files:
            self.editor_for(self.dockerfile).set_marks(gutter_marks(self.findings))
        self._update_status()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "lint" and event.state == WorkerState.ERROR:
            view = self.query_one(LintView)
            view.loading = False
            view.show_problem(f"hadolint stopped on an unexpected error: {event.worker.error}")
