"""`tutor layers IMAGE [--step N] [--json]`: an image's steps, their layer sizes, and what a layer holds.

The list comes from the image's history (instant).  Steps are numbered as a
Dockerfile numbers them when the base image is known on the engine: step 1 is
FROM (the whole base image), then one step per instruction of the image's own
history (of a multi-stage build: the final stage, since the builder stages
are not in the image).  With ``--step N`` the image is exported (seconds for a big image) to
list the files that step's layer added, changed and removed, biggest first,
and the bytes of it that later steps overwrite or delete.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, TextIO

from tutor import fmt
from tutor.commands.engine_access import connect_or_explain
from tutor.commands.exit_codes import EXIT_FAILED, EXIT_NO_ENGINE, EXIT_OK

if TYPE_CHECKING:
    import docker

    from tutor.engine.layer_contents import ImageContents, LayerContents

DEFAULT_LIMIT = 20
_NOP = re.compile(r"^(?:\|\d+ (?:\S+=\S* )*)?/bin/sh -c #\(nop\)\s+")
_SHELL = re.compile(r"^(?:RUN )?(?:\|\d+ (?:\S+=\S* )*)?/bin/sh -c\s+")  # BuildKit writes "RUN /bin/sh -c ..."
_EXPOSE_MAP = re.compile(r"^EXPOSE map\[(.*)\]$")  # BuildKit: EXPOSE map[8080/tcp:{}]
_HIDDEN_LABEL = "LABEL io.tutor."
_SOURCE_HASH = re.compile(r"\b(file|dir|multi):([0-9a-f]{12})[0-9a-f]{52}\b")  # labels the tutor adds to every build: not the learner's steps


@dataclass(frozen=True)
class HistoryStep:
    step: int
    instruction: str  # "COPY file:… in ./", "RUN go build -o main", "FROM golang:1.24-alpine"
    size: int  # bytes the step added (FROM: the whole base image)
    image_id: str | None  # 12 hex, when the engine has the step image
    entries: tuple[int, ...]  # positions in the history, oldest first (FROM: the base's entries)
    keyword: str

    @property
    def is_from(self) -> bool:
        return self.keyword == "FROM"


def instruction_of(created_by: str) -> str:
    """The Dockerfile instruction a history line stands for."""
    text = created_by.strip().removesuffix("# buildkit").strip()
    if not text:
        return "(no instruction recorded: an imported file system)"
    text = _SOURCE_HASH.sub(r"\1:\2…", text)  # the classic builder names copied sources by their hash
    if _NOP.match(text):
        return _NOP.sub("", text)
    exposed = _EXPOSE_MAP.match(text)
    if exposed:
        return "EXPOSE " + " ".join(p.split(":", 1)[0].removesuffix("/tcp") for p in exposed.group(1).split())
    if _SHELL.match(text):
        return "RUN " + _SHELL.sub("", text)
    return text


def _short(image_id: str | None) -> str | None:
    if not image_id or image_id == "<missing>":
        return None
    return image_id.split(":", 1)[-1][:12]


def _entry_key(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (entry.get("CreatedBy"), entry.get("Size"), entry.get("Created"))


def base_from_images(history: list[dict[str, Any]], tagged: dict[str, list[dict[str, Any]]]) -> tuple[int, str] | None:
    """Where the base image ends in ``history`` (newest first), from other images' histories.

    BuildKit records no ids in history, so a base is found as a tagged image whose history is a
    strict prefix of this one. Of several (a learner tags successive builds: app:1, app:2), the
    oldest is the base: what a rebuild adds on top of app:1 was made by the same Dockerfile.
    """
    ours = [_entry_key(e) for e in reversed(history)]
    best: tuple[int, str] | None = None
    for name, theirs in tagged.items():
        keys = [_entry_key(e) for e in reversed(theirs)]
        if 0 < len(keys) < len(ours) and ours[: len(keys)] == keys and (best is None or len(keys) - 1 < best[0]):
            best = (len(keys) - 1, name)
    return best


def history_steps(
    history: list[dict[str, Any]], tagged: dict[str, list[dict[str, Any]]] | None = None
) -> tuple[list[HistoryStep], str | None]:
    """Steps (oldest first) from the engine's history (newest first), and the base image's name.

    The base is the oldest tagged ancestor: an image tagged twice, or rebuilt and tagged again,
    does not count as its own base. ``tagged`` (name -> history) finds it for BuildKit images.
    """
    entries = list(reversed(history))
    base_at, base_name = None, None
    for i in range(len(entries) - 1):
        tags = [t for t in entries[i].get("Tags") or [] if t != "<none>:<none>"]
        if tags:
            base_at, base_name = i, tags[0]
            break
    if base_at is None and tagged:
        found = base_from_images(history, tagged)
        if found is not None:
            base_at, base_name = found
    steps: list[HistoryStep] = []
    if base_at is not None:
        size = sum(int(e.get("Size") or 0) for e in entries[: base_at + 1])
        steps.append(HistoryStep(1, f"FROM {base_name}", size, _short(entries[base_at].get("Id")),
                                 tuple(range(base_at + 1)), "FROM"))
    for i in range((base_at + 1) if base_at is not None else 0, len(entries)):
        instruction = instruction_of(str(entries[i].get("CreatedBy") or ""))
        if instruction.startswith(_HIDDEN_LABEL):
            continue
        keyword = instruction.split(None, 1)[0].upper() if instruction else ""
        steps.append(HistoryStep(len(steps) + 1, instruction, int(entries[i].get("Size") or 0),
                                 _short(entries[i].get("Id")), (i,), keyword))
    return steps, base_name


def add_parser(sub) -> None:
    p = sub.add_parser("layers", help="an image's steps and layer sizes; --step N: the files that step's layer holds")
    p.add_argument("image", metavar="IMAGE", help="image name, tag or id")
    p.add_argument("--step", type=int, metavar="N",
                   help="the files step N's layer added, changed and removed (biggest first) and the space it wastes")
    p.add_argument("--limit", type=int, default=DEFAULT_LIMIT, metavar="K",
                   help=f"files listed per list with --step, also in JSON (default {DEFAULT_LIMIT}; 0: all)")
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args, out: TextIO | None = None) -> int:
    return layers(args.image, step=args.step, as_json=args.json, limit=args.limit, engine=args.engine, out=out)


def layers(
    image: str,
    step: int | None = None,
    as_json: bool = False,
    limit: int = DEFAULT_LIMIT,
    engine: str | None = None,
    out: TextIO | None = None,
) -> int:

    out = out or sys.stdout
    api = connect_or_explain(engine, out)
    if api is None:
        return EXIT_NO_ENGINE
    try:
        return _layers(api, image, step, as_json, limit, out)
    finally:
        api.close()


MAX_BASE_CANDIDATES = 40  # histories asked for when the image's own history names no base


def _tagged_histories(api: docker.APIClient, history: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Histories of the tagged images that may be this image's base (BuildKit histories have no ids)."""
    if any(e.get("Id") not in (None, "", "<missing>") for e in history[1:]):
        return {}  # the classic builder's ids already lead to the base
    found: dict[str, list[dict[str, Any]]] = {}
    try:
        listed = api.images()
    except Exception:  # noqa: BLE001 - no base then: every entry is a step
        return {}
    top = str(history[0].get("Id") or "") if history else ""
    for image in listed:
        tags = [t for t in image.get("RepoTags") or () if t != "<none>:<none>"]
        if not tags or image.get("Id") == top or len(found) >= MAX_BASE_CANDIDATES:
            continue
        try:
            found[tags[0]] = api.history(image["Id"])
        except Exception:  # noqa: BLE001 - gone meanwhile
            continue
    return found


def _fail(message: str, as_json: bool, out: TextIO, code: int = EXIT_FAILED) -> int:
    if as_json:
        print(json.dumps({"error": message}), file=out)
    else:
        print(f"error: {message}", file=out)
    return code


def _layers(api: docker.APIClient, image: str, step: int | None, as_json: bool, limit: int, out: TextIO) -> int:
    from docker.errors import DockerException

    from tutor.engine.image_size import layers_size
    from tutor.engine.layer_contents import METADATA_KEYWORDS, ExportError, image_contents

    try:
        info = api.inspect_image(image)
        history = api.history(image)
    except DockerException as exc:
        explanation = getattr(exc, "explanation", None) or str(exc)
        return _fail(f"no image {image} on the engine ({explanation}). `docker images` lists them.", as_json, out)
    steps, base = history_steps(history, _tagged_histories(api, history))
    image_id = _short(info.get("Id")) or image
    if step is None:
        return _print_list(image, image_id, layers_size(history), steps, base, as_json, out)
    if not steps:
        return _fail(f"{image} has no history to number its steps.", as_json, out)
    if not 1 <= step <= len(steps):
        return _fail(f"{image} has steps 1 to {len(steps)}: there is no step {step}.", as_json, out)
    chosen = steps[step - 1]
    if chosen.keyword in METADATA_KEYWORDS:
        reason = f"{chosen.keyword} adds no layer (0 B): it only changes the image's configuration."
        return _print_no_layer(image, image_id, chosen, len(steps), reason, as_json, out)
    try:
        contents = image_contents(api, image)
    except ExportError as exc:
        return _fail(str(exc), as_json, out)
    layer_of = _layer_index_by_entry(contents, history)
    if chosen.is_from:
        return _print_base(image, image_id, chosen, len(steps), contents, layer_of, limit, as_json, out)
    index = layer_of.get(chosen.entries[0])
    if index is None:
        reason = "this step made no layer: it only changed the image's configuration (0 B)."
        return _print_no_layer(image, image_id, chosen, len(steps), reason, as_json, out)
    step_of_layer = {layer_of[e]: s.step for s in steps for e in s.entries if e in layer_of and not s.is_from}
    return _print_layer(image, image_id, chosen, len(steps), contents, contents.layers[index], step_of_layer,
                        steps, limit, as_json, out)


def _layer_index_by_entry(contents: ImageContents, history: list[dict[str, Any]]) -> dict[int, int]:
    """History position (oldest first) -> layer index, for the entries that made a layer."""
    entries = list(reversed(history))
    made = contents.history_layers
    if len(made) == len(entries) and sum(made) == len(contents.layers):
        mapping, layer = {}, 0
        for position, has_layer in enumerate(made):
            if has_layer:
                mapping[position] = layer
                layer += 1
        return mapping
    mapping = {}
    for position, entry in enumerate(entries):  # the export disagrees with the history: match by step image
        found = contents.layer_for_image(str(entry.get("Id") or "")) if _short(entry.get("Id")) else None
        if found is not None:
            mapping[position] = found.index
    return mapping


# -- printing --------------------------------------------------------------------------------------


def _print_list(image: str, image_id: str, size: int, steps: list[HistoryStep], base: str | None,
                as_json: bool, out: TextIO) -> int:
    from tutor.engine.layer_contents import METADATA_KEYWORDS

    if as_json:
        print(json.dumps({
            "image": image, "id": image_id, "size": size, "base": base,
            "steps": [
                {"step": s.step, "instruction": s.instruction, "size": s.size, "image_id": s.image_id,
                 "metadata_only": s.keyword in METADATA_KEYWORDS, "base": s.is_from}
                for s in steps
            ],
        }, indent=2), file=out)
        return EXIT_OK
    print(f"{image} ({image_id}): {fmt.size(size)}, {len(steps)} step{'s' if len(steps) != 1 else ''}", file=out)
    if base is None:
        print("(no tagged base image below it on this engine: every history entry is a step)", file=out)
    width = len(str(len(steps)))
    for s in steps:
        note = "  (base image)" if s.is_from else ("  (metadata, no layer)" if s.keyword in METADATA_KEYWORDS else "")
        print(f"{s.step:>{width}}/{len(steps)}  {fmt.size(s.size):>9}  {fmt.ellipsize(s.instruction, 70)}{note}",
              file=out)
    print(f"`tutor layers {image} --step N` lists the files of step N's layer.", file=out)
    return EXIT_OK


def _heading(s: HistoryStep, total: int) -> str:
    return f"step {s.step}/{total}  {s.instruction}"


def _print_no_layer(image: str, image_id: str, s: HistoryStep, total: int, reason: str, as_json: bool,
                    out: TextIO) -> int:
    if as_json:
        print(json.dumps({"image": image, "id": image_id, "step": s.step, "instruction": s.instruction,
                          "layer": None, "reason": reason}, indent=2), file=out)
    else:
        print(_heading(s, total), file=out)
        print(f"no layer: {reason}", file=out)
    return EXIT_OK


def _files_json(files, limit: int) -> list[dict[str, Any]]:
    return [asdict(f) for f in (files if limit <= 0 else files[:limit])]


def _print_files(title: str, files, limit: int, out: TextIO, note=None) -> None:
    total = sum(f.size for f in files)
    if not files:
        print(f"{title}: none", file=out)
        return
    print(f"{title} ({len(files)}, {fmt.size(total)}):", file=out)
    shown = files if limit <= 0 else files[:limit]
    for f in shown:
        extra = f"  {note(f)}" if note else ("" if getattr(f, "kind", "file") == "file" else f"  ({f.kind})")
        print(f"  {fmt.size(f.size):>9}  {f.path}{extra}", file=out)
    if len(shown) < len(files):
        rest = files[len(shown):]
        print(f"  {fmt.size(sum(f.size for f in rest)):>9}  … and {len(rest)} more (--limit 0 shows all)", file=out)


def _print_layer(image: str, image_id: str, s: HistoryStep, total: int, contents: ImageContents,
                 layer: LayerContents, step_of_layer: dict[int, int], steps: list[HistoryStep], limit: int,
                 as_json: bool, out: TextIO) -> int:
    def verb(w) -> str:
        later = contents.layers[w.by_layer] if w.by_layer < len(contents.layers) else None
        gone = later is not None and any(w.path == p or w.path.startswith(p + "/")
                                         for p in [r.path for r in later.removed] + list(later.opaque_dirs))
        return "deleted" if gone else "overwritten"

    def by_text(w) -> str:
        number = step_of_layer.get(w.by_layer)
        where = f"step {number} ({fmt.ellipsize(steps[number - 1].instruction, 40)})" if number else f"layer {w.by_layer + 1}"
        return f"{verb(w)} by {where}"

    if as_json:
        print(json.dumps({
            "image": image, "id": image_id, "step": s.step, "instruction": s.instruction,
            "layer": {
                "index": layer.index, "digest": layer.digest, "size": layer.size, "created_by": layer.created_by,
                "added": _files_json(layer.added, limit), "changed": _files_json(layer.changed, limit),
                "removed": _files_json(layer.removed, limit), "opaque_dirs": list(layer.opaque_dirs),
                "wasted": [{"path": w.path, "size": w.size, "by_layer": w.by_layer,
                            "by_step": step_of_layer.get(w.by_layer), "how": verb(w)}
                           for w in (layer.wasted if limit <= 0 else layer.wasted[:limit])],
                "counts": {"added": len(layer.added), "changed": len(layer.changed),
                           "removed": len(layer.removed), "wasted": len(layer.wasted)},
                "wasted_bytes": layer.wasted_bytes,
            },
            "image_wasted_bytes": contents.wasted_bytes,
        }, indent=2), file=out)
        return EXIT_OK
    print(_heading(s, total), file=out)
    print(f"layer {layer.index + 1} of {len(contents.layers)}: {fmt.size(layer.size)} of files", file=out)
    if not (layer.added or layer.changed or layer.removed or layer.opaque_dirs):
        print("no file bytes: the layer holds only folders" + (f" ({s.instruction} makes one)" if s.keyword == "WORKDIR" else ""), file=out)
    _print_files("added", layer.added, limit, out)
    _print_files("changed (stored again: a lower layer had them)", layer.changed, limit, out)
    _print_files("removed (whiteouts: the bytes stay in the lower layer)", layer.removed, limit, out)
    if layer.opaque_dirs:
        print("opaque folders (hide what lower layers had in them): " + ", ".join(layer.opaque_dirs), file=out)
    if layer.wasted:
        print(f"wasted: {fmt.size(layer.wasted_bytes)} of this layer are hidden by later steps, "
              "yet still shipped in the image:", file=out)
        shown = layer.wasted if limit <= 0 else layer.wasted[:limit]
        for w in shown:
            print(f"  {fmt.size(w.size):>9}  {w.path}  {by_text(w)}", file=out)
        if len(shown) < len(layer.wasted):
            print(f"  … and {len(layer.wasted) - len(shown)} more (--limit 0 shows all)", file=out)
    else:
        print("wasted: none (no later step overwrites or deletes these files)", file=out)
    return EXIT_OK


def _print_base(image: str, image_id: str, s: HistoryStep, total: int, contents: ImageContents,
                layer_of: dict[int, int], limit: int, as_json: bool, out: TextIO) -> int:
    indexes = sorted({layer_of[e] for e in s.entries if e in layer_of})
    base_layers = [contents.layers[i] for i in indexes]
    files = sorted((f for layer in base_layers for f in layer.added + layer.changed), key=lambda f: (-f.size, f.path))
    if as_json:
        print(json.dumps({
            "image": image, "id": image_id, "step": s.step, "instruction": s.instruction, "base": True,
            "layers": [{"index": layer.index, "digest": layer.digest, "size": layer.size,
                        "created_by": layer.created_by} for layer in base_layers],
            "biggest_files": _files_json(files, limit),
            "files": len(files),
        }, indent=2), file=out)
        return EXIT_OK
    print(_heading(s, total), file=out)
    print(f"the base image: {len(base_layers)} layer(s), {fmt.size(sum(layer.size for layer in base_layers))} "
          "of files; every later step adds layers on top", file=out)
    _print_files("its biggest files", files, limit, out)
    return EXIT_OK
