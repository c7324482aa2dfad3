"""What one step's layer holds: the files it added, changed and removed, and the space it wastes.

Opened on a row of the layer pane.  The layers are read from the engine's
export of the image (seconds for a big image), in a thread worker, once per
image: left/right then walk the steps at once.  Steps of a builder stage are
read from that stage's last image, since the final image does not hold them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, LoadingIndicator, Static
from textual.worker import Worker, WorkerState

from tutor import fmt
from tutor.engine.layer_contents import (
    METADATA_KEYWORDS,
    ExportError,
    ImageContents,
    LayerContents,
    LayerFile,
    StageGroup,
    image_contents,
    stage_groups,
)
from tutor.engine.record import BUILT, CACHED, FAILED, BuildRecord, StepState
from tutor.ui.widgets.footer import KeysFooter

MAX_ROWS = 200  # per section: a base image holds thousands of files; the biggest tell the story
Loader = Callable[[str], ImageContents]

SECTION_STYLE = {
    "added": "green",
    "changed": "yellow",
    "removed": "red",
    "opaque": "magenta",
    "wasted": "bold red",
    "base": "cyan",
}


@dataclass
class ContentsLoaded(Message):
    """The layers of ``target`` were read."""

    target: str
    contents: ImageContents


@dataclass
class ContentsFailed(Message):
    """The layers of ``target`` could not be read; ``reason`` says why."""

    target: str
    reason: str


def engine_loader(engine: str | None) -> Loader:
    """Reads an image's layers from the engine (a fresh client per read: workers are short threads)."""

    def load(target: str) -> ImageContents:
        from tutor.engine.client import EngineUnavailable, connect

        try:
            api = connect(engine)
        except EngineUnavailable as exc:
            raise ExportError(f"{exc.problem.reason} {exc.problem.fix}") from exc
        try:
            return image_contents(api, target)
        finally:
            api.close()

    return load


def _short(image_id: str | None) -> str:
    return (image_id or "").split(":", 1)[-1][:12]


class LayerContentsScreen(Screen):
    CSS_PATH = "layer_contents.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close", tooltip="Back to the lesson"),
        Binding("left", "step(-1)", "Previous step", key_display="←", priority=True,
                tooltip="Show the previous step's layer"),
        Binding("right", "step(1)", "Next step", key_display="→", priority=True,
                tooltip="Show the next step's layer"),
        Binding("r", "retry", "Retry", tooltip="Read the image's layers from the engine again"),
    ]

    def __init__(
        self,
        image: str,
        record: BuildRecord,
        step: int,
        engine: str | None = None,
        *,
        loader: Loader | None = None,
    ) -> None:
        super().__init__()
        self.image = image
        self.record = record
        self.step = step
        self.engine = engine
        self._load: Loader = loader or engine_loader(engine)
        self._contents: dict[str, ImageContents] = {}  # per image read: each is read once
        self._failed: dict[str, str] = {}
        self._loading: set[str] = set()
        self._stages = stage_groups(record)

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="lc-body"):
            yield Static(id="lc-step")
            yield Static(id="lc-stage")
            yield Static(id="lc-summary")
            yield Static(id="lc-status")
            yield LoadingIndicator(id="lc-loading")
            yield DataTable(id="lc-files", cursor_type="row", zebra_stripes=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one("#lc-files", DataTable)
        table.add_column("what", key="what", width=8)
        table.add_column("path", key="path", width=self._path_width())
        table.add_column("size", key="size", width=9)
        table.add_column("note", key="note", width=self._note_width())
        table.border_title = "Files"
        self.title = "Layer contents"
        self.sub_title = self._image_name(self.image) if self.image else ""
        self.show_step(self.step)

    def on_resize(self) -> None:
        table = self.query_one("#lc-files", DataTable)
        column = table.columns.get("path")  # type: ignore[call-overload]  # keys are ColumnKey; a str finds it too
        if column is not None and column.width != self._path_width():
            self.show_step(self.step)

    def _free_width(self) -> int:
        # what 8 + size 9, two cells of padding per column, borders, scrollbar, the body's padding
        return max(40, (self.size.width or 100) - 8 - 9 - 4 * 2 - 2 - 2 - 2)

    def _note_width(self) -> int:
        return max(26, self._free_width() * 9 // 20)

    def _path_width(self) -> int:
        return self._free_width() - self._note_width()

    # -- which image holds a step's layer -------------------------------------------------------

    def _group(self, state: StepState) -> StageGroup | None:
        return next((g for g in self._stages.stages if g.index == state.stage), None)

    def target_for(self, state: StepState) -> str | None:
        """The image to read for this step: the final image, or the last image of its stage."""
        group = self._group(state)
        if group is not None and group.in_final_image and self.record.result is not None:
            return self.image or self.record.result.image_id
        ids = [s.image_id for s in (group.steps if group else ()) if s.image_id and s.keyword != "FROM"]
        ids = ids or [s.image_id for s in self.record.ordered if s.stage == state.stage and s.image_id]
        return ids[-1] if ids else None

    # -- attributes down ------------------------------------------------------------------------

    def show_step(self, step: int) -> None:
        self.step = step
        state = self.record.steps.get(step)
        table = self.query_one("#lc-files", DataTable)
        table.clear()
        self._loading_shown(False)
        for key, width in (("path", self._path_width()), ("note", self._note_width())):
            column = table.columns.get(key)  # type: ignore[call-overload]  # keys are ColumnKey; a str finds it too
            if column is not None:
                column.width = width
        self._status("")
        self._summary(Text())
        if state is None:
            self._header(Text(f"No step {step} in this build.", style="bold"))
            self._stage_note(Text())
            table.display = False
            return
        self._header(Text.assemble((f"Step {state.step}/{state.total}  ", "bold"), (state.instruction, "bold cyan")))
        self._stage_note(self._stage_text(state))
        no_layer = self._no_layer_text(state)
        if no_layer is not None:
            table.display = False
            self._summary(no_layer)
            return
        target = self.target_for(state)
        if target is None:
            table.display = False
            self._summary(Text("This step made no image the engine could show.", style="yellow"))
            return
        table.display = True
        if target in self._contents:
            self._render_layer(state, target, self._contents[target])
        elif target in self._failed:
            table.display = False
            self._status(Text(self._failed[target] + "  (r: retry)", style="bold red"))
        else:
            table.display = False
            self._loading_shown(True)
            self._status(
                Text(f"Reading the layers of {self._image_name(target)} from the engine… a big image takes a few seconds.",
                     style="italic")
            )
            if target not in self._loading:
                self._loading.add(target)
                self._read(target)

    def _image_name(self, target: str) -> str:
        return target if ":" in target and not target.startswith("sha256:") else _short(target)

    def _loading_shown(self, shown: bool) -> None:
        self.query_one("#lc-loading", LoadingIndicator).display = shown

    @property
    def is_loading(self) -> bool:
        return bool(self.query_one("#lc-loading", LoadingIndicator).display)

    def _header(self, text: Text) -> None:
        self.query_one("#lc-step", Static).update(text)

    def _stage_note(self, text: Text) -> None:
        note = self.query_one("#lc-stage", Static)
        note.update(text)
        note.display = bool(text.plain)

    def _summary(self, text: Text) -> None:
        self.query_one("#lc-summary", Static).update(text)

    def _status(self, text: Text | str) -> None:
        status = self.query_one("#lc-status", Static)
        status.update(text)
        status.display = bool(str(text))

    def _stage_text(self, state: StepState) -> Text:
        group = self._group(state)
        if group is None or len(self._stages.stages) < 2:
            return Text()
        title = f"stage {group.index}" + (f" '{group.name}'" if group.name else "")
        if group.in_final_image:
            return Text(f"{title}: becomes the image", style="dim")
        return Text(
            f"{title} is a builder stage: this layer is NOT part of the final image. "
            "It stays behind on the engine; only what a later stage copies --from it reaches the image.",
            style="bold yellow",
        )

    def _no_layer_text(self, state: StepState) -> Text | None:
        """Why a step has no layer to show, or None when it has one."""
        if state.keyword in METADATA_KEYWORDS:
            return Text.assemble(
                (f"{state.keyword} adds no layer: 0 B. ", "bold"),
                "It only changes the image's configuration (metadata such as environment, ports or the "
                "command), which costs no file bytes.",
            )
        if state.is_from and not state.image_id:
            if state.instruction.split()[1:2] == ["scratch"]:
                return Text("FROM scratch: an empty base. No layer, no files: the next steps start from nothing.")
        if state.status == FAILED:
            return Text(f"This step failed, so it made no layer. {state.error or ''}".strip(), style="red")
        if state.status not in (CACHED, BUILT) or not state.image_id:
            return Text(f"This step has no layer yet ({state.status}): build first.", style="yellow")
        return None

    # -- the export read, off the UI thread -----------------------------------------------------

    @work(thread=True, exit_on_error=False, group="layer-contents")
    def _read(self, target: str) -> None:
        try:
            contents = self._load(target)
        except ExportError as exc:
            self.post_message(ContentsFailed(target, str(exc)))
        except Exception as exc:  # noqa: BLE001 - the engine went away mid-read, or worse: shown, not raised
            self.post_message(ContentsFailed(target, f"Could not read the layers of {self._image_name(target)}: {exc}"))
        else:
            self.post_message(ContentsLoaded(target, contents))

    @on(ContentsLoaded)
    def _loaded(self, message: ContentsLoaded) -> None:
        self._loading.discard(message.target)
        self._contents[message.target] = message.contents
        self._failed.pop(message.target, None)
        state = self.record.steps.get(self.step)
        if state is not None and self.target_for(state) == message.target:
            self.show_step(self.step)

    @on(ContentsFailed)
    def _load_failed(self, message: ContentsFailed) -> None:
        self._loading.discard(message.target)
        reason = message.reason
        if reason.startswith("No image "):  # the engine's 404 adds nothing a learner can use
            reason = reason.split(":", 1)[0] + ": removed since this build? Build again to see its layers."
        self._failed[message.target] = reason
        state = self.record.steps.get(self.step)
        if state is not None and self.target_for(state) == message.target:
            self.show_step(self.step)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "layer-contents" and event.state == WorkerState.ERROR:
            self._loading.clear()
            self.notify(f"Reading the layers stopped: {event.worker.error}", title="Layer contents", severity="error")

    # -- drawing a layer ------------------------------------------------------------------------

    def _step_of_layer(self, contents: ImageContents, index: int) -> StepState | None:
        if not 0 <= index < len(contents.layers):
            return None
        image_id = contents.layers[index].image_id
        if not image_id:
            return None
        return next((s for s in self.record.ordered if s.image_id and _short(s.image_id) == image_id[:12]
                     and not s.is_from), None)

    def _by_note(self, verb: str, contents: ImageContents, index: int) -> str:
        """"deleted by step 9: RUN rm …", or just "deleted by step 9" when the column is narrow."""
        state = self._step_of_layer(contents, index)
        base = f"{verb} by " + (f"step {state.step}" if state else f"layer {index + 1}")
        width = self._note_width()
        if state is None or width - len(base) < 12:
            return fmt.ellipsize(base, width)
        return fmt.ellipsize(f"{base}: {state.instruction}", width)

    def _render_layer(self, state: StepState, target: str, contents: ImageContents) -> None:
        table = self.query_one("#lc-files", DataTable)
        self._loading_shown(False)
        self._status("")
        layer = contents.layer_for_step(self.record, state.step)
        if layer is None:
            table.display = False
            self._summary(Text(
                f"The image {self._image_name(target)} holds no layer of this step (was it rebuilt since?).",
                style="yellow",
            ))
            return
        if state.is_from:
            self._render_base(state, contents, layer)
            return
        count = len(contents.layers)
        summary = Text()
        summary.append(f"Layer {layer.index + 1} of {count}", style="bold")
        summary.append(f" · {fmt.size(layer.size)} of files · diff id {_short(layer.digest)}\n")
        if layer.created_by:
            summary.append("created by: ", style="dim")
            summary.append(fmt.ellipsize(layer.created_by.replace("/bin/sh -c #(nop) ", "").strip(), 200) + "\n")
        summary.append(
            f"added {_files(layer.added)} · changed {_files(layer.changed)} · removed {_files(layer.removed)}"
            + (f" · {len(layer.opaque_dirs)} opaque folder(s)" if layer.opaque_dirs else "")
        )
        if layer.wasted:
            summary.append(
                f"\nwasted: {fmt.size(layer.wasted_bytes)} of this layer are hidden by later layers "
                "(still shipped in the image)",
                style="bold red",
            )
        elif not layer.added and not layer.changed and not layer.removed and not layer.opaque_dirs:
            what = f"{state.keyword} only made a folder" if state.keyword == "WORKDIR" else "only folders"
            summary.append(f"\nNo file bytes: {what} (0 B).", style="italic")
        if contents.wasted_bytes:
            summary.append(f"\nwhole image: {fmt.size(contents.wasted_bytes)} wasted", style="dim")
        self._summary(summary)
        table.display = True
        self._rows("added", layer.added, "")
        self._rows("changed", layer.changed, "stored again: a lower layer had it")
        self._rows("removed", layer.removed, "whiteout: bytes stay below")
        for folder in layer.opaque_dirs:
            table.add_row(
                Text("opaque", style=SECTION_STYLE["opaque"]), Text(self._cut(folder)), "",
                "hides all lower contents", key=f"opaque:{folder}",
            )
        for n, wasted in enumerate(layer.wasted):
            if n == MAX_ROWS:
                self._more("wasted", layer.wasted[MAX_ROWS:])
                break
            by = contents.layers[wasted.by_layer] if wasted.by_layer < count else None
            deleted = by is not None and any(
                wasted.path == p or wasted.path.startswith(p + "/")
                for p in [r.path for r in by.removed] + list(by.opaque_dirs)
            )
            verb = "deleted" if deleted else "overwritten"
            table.add_row(
                Text("wasted", style=SECTION_STYLE["wasted"]), Text(self._cut(wasted.path)), fmt.size(wasted.size),
                self._by_note(verb, contents, wasted.by_layer),
                key=f"wasted:{wasted.path}",
            )
        if not table.row_count:
            table.display = False

    def _render_base(self, state: StepState, contents: ImageContents, top: LayerContents) -> None:
        base = contents.layers[: top.index + 1]
        name = state.instruction.split()[1] if len(state.instruction.split()) > 1 else "the base image"
        summary = Text()
        summary.append(f"{name} is the base image: ", style="bold")
        summary.append(
            f"{len(base)} layer(s), {fmt.size(sum(layer.size for layer in base))} of files. "
            "Every later step adds layers on top of these."
        )
        self._summary(summary)
        table = self.query_one("#lc-files", DataTable)
        table.display = True
        for layer in base:
            table.add_row(
                Text("base", style=SECTION_STYLE["base"]),
                Text(self._cut(layer.created_by.replace("/bin/sh -c #(nop) ", "").strip() or f"layer {layer.index + 1}")),
                fmt.size(layer.size), f"layer {layer.index + 1}: {len(layer.added)} files",
                key=f"base:{layer.index}",
            )
        biggest = sorted((f for layer in base for f in layer.added + layer.changed), key=lambda f: (-f.size, f.path))
        self._rows("added", tuple(biggest), "")

    def _cut(self, path: str) -> str:
        return fmt.ellipsize(path, self._path_width())

    def _rows(self, section: str, files: tuple[LayerFile, ...], note: str) -> None:
        table = self.query_one("#lc-files", DataTable)
        for f in files[:MAX_ROWS]:
            table.add_row(
                Text(section, style=SECTION_STYLE[section]), Text(self._cut(f.path)), fmt.size(f.size),
                fmt.ellipsize(note or ("" if f.kind == "file" else f.kind), self._note_width()),
                key=f"{section}:{f.path}",
            )
        if len(files) > MAX_ROWS:
            self._more(section, files[MAX_ROWS:])

    def _more(self, section: str, rest: tuple) -> None:
        self.query_one("#lc-files", DataTable).add_row(
            Text(section, style="dim"), Text(f"… and {len(rest)} more", style="dim"),
            fmt.size(sum(f.size for f in rest)), "", key=f"{section}:more",
        )

    # -- actions --------------------------------------------------------------------------------

    def action_close(self) -> None:
        self.dismiss()

    def action_step(self, delta: int) -> None:
        steps = sorted(self.record.steps)
        if not steps:
            return
        index = steps.index(self.step) + delta if self.step in steps else 0
        if 0 <= index < len(steps):
            self.show_step(steps[index])
        else:
            self.notify("That was the " + ("last" if delta > 0 else "first") + " step.", title="Layer contents")

    def action_retry(self) -> None:
        state = self.record.steps.get(self.step)
        target = self.target_for(state) if state else None
        if target is not None:
            self._failed.pop(target, None)
            self._contents.pop(target, None)
        self.show_step(self.step)

    def rows(self) -> list[tuple[str, str, str, str]]:
        """The table as plain text (what, path, size, note): what the learner sees."""
        table = self.query_one("#lc-files", DataTable)
        return [tuple(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]  # type: ignore[misc]  # rows are tuples of four cells


def _files(files: tuple[LayerFile, ...]) -> str:
    n = len(files)
    return f"{n} file{'s' if n != 1 else ''}" + (f" ({fmt.size(sum(f.size for f in files))})" if n else "")
