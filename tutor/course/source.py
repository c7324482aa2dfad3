"""Reading one lesson.md: its front matter (python-frontmatter), its body, and where each key is.

python-frontmatter gives the data and the markdown; composing the same YAML text
gives nodes with marks, so every problem can name the line in lesson.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from tutor.course.model import LessonProblem

Key = str | int  # a mapping key or a list index


@dataclass(frozen=True)
class LessonSource:
    """A lesson.md whose front matter is well-formed YAML mapping."""

    path: Path
    meta: dict[str, Any]
    body: str
    root: yaml.MappingNode
    first_line: int  # line of the opening `---` (1-based)
    offset: int  # a node mark's 0-based line + offset = line in the file

    def node(self, *keys: Key) -> yaml.Node | None:
        """The YAML node of the value at ``keys`` (e.g. "exercises", 0, "checks"), or None."""
        node: yaml.Node | None = self.root
        for key in keys:
            node = _child(node, key)
            if node is None:
                return None
        return node

    def line(self, *keys: Key) -> int:
        """Line of the value at ``keys``; of the nearest existing parent when it is missing."""
        for depth in range(len(keys), -1, -1):
            node = self.node(*keys[:depth])
            if node is not None:
                return node.start_mark.line + self.offset
        return self.first_line

    def key_line(self, *keys: Key) -> int:
        """Line of the key itself (for unknown keys), falling back to ``line``."""
        if keys and isinstance(keys[-1], str):
            parent = self.node(*keys[:-1])
            if isinstance(parent, yaml.MappingNode):
                for key_node, _ in parent.value:
                    if isinstance(key_node, yaml.ScalarNode) and key_node.value == keys[-1]:
                        return key_node.start_mark.line + self.offset
        return self.line(*keys)


def _child(node: yaml.Node | None, key: Key) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(key, str):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return value_node
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
        return node.value[key]
    return None


def _duplicate_keys(root: yaml.Node, offset: int, path: Path) -> list[LessonProblem]:
    """YAML keeps the last of two equal keys without a word; an author wants to know.

    A walk with its own stack, in document order: no recursion limit to reach.
    """
    problems: list[LessonProblem] = []
    stack: list[yaml.Node] = [root]
    while stack:
        node = stack.pop()
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    if key_node.value in seen:
                        line = key_node.start_mark.line + offset
                        problems.append(LessonProblem(path, line, f"`{key_node.value}` is given twice"))
                    seen.add(key_node.value)
                children.append(value_node)
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        stack.extend(reversed(children))
    return problems


def _unsafe_structure(fm_text: str, offset: int, path: Path) -> LessonProblem | None:
    """Anchors, aliases and deep nesting, found in the event stream before anything is built.

    An alias may refer to itself (endless recursion) or nest others ("billion laughs":
    a few lines that expand to billions of items); lessons never need them.
    """
    depth = 0
    for event in yaml.parse(fm_text, Loader=_LOADER):
        anchor = getattr(event, "anchor", None)
        line = (event.start_mark.line if event.start_mark else 0) + offset
        if isinstance(event, yaml.AliasEvent):
            return LessonProblem(path, line, f"YAML aliases (*{anchor}) are not allowed in lessons: write the value out")
        if anchor is not None:
            return LessonProblem(path, line, f"YAML anchors (&{anchor}) are not allowed in lessons: write the value out")
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                return LessonProblem(path, line, f"the front matter nests deeper than {MAX_DEPTH} levels")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    return None


def _yaml_problem(path: Path, offset: int, first_line: int, exc: yaml.YAMLError) -> LessonProblem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + offset if mark is not None else first_line
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    detail = f"{context}: {problem}" if context and context not in problem else problem
    hint = ""
    if "mapping values are not allowed" in problem or "found character '\\t'" in problem:
        hint = " (quote text that contains `: `, and indent with spaces)"
    return LessonProblem(path, line, f"the front matter is not valid YAML: {detail}{hint}")


# libyaml's loader when PyYAML was built with it: the same nodes and marks, several times faster.
_BASE_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE_LOADER):
    """The safe loader, with a value it cannot build reported at its node, as a YAML error.

    PyYAML raises plain ValueError for some scalars it resolves but cannot build: an
    integer of more than 4300 digits, a date such as 2024-13-45.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError, TypeError) as exc:
            if isinstance(exc, yaml.YAMLError):
                raise
            raise yaml.constructor.ConstructorError(None, None, f"cannot read this value: {exc}", node.start_mark) from None


_LOADER = _Loader

# A lesson is a page of text and a few exercises (the shipped ones are under 10 kB). Beyond this,
# it is refused before it is read: the app lays out and highlights the whole text when it opens.
MAX_LESSON_BYTES = 16 * 1024
MAX_DEPTH = 32  # levels of nested lists and mappings in the front matter (a lesson uses 4)


def _read_bounded(path: Path, limit: int) -> bytes | None:
    """The file's bytes, or None when it holds more than ``limit`` (never reading more)."""
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    return data if len(data) <= limit else None


def _too_big(path: Path) -> str:
    try:
        size = f"{path.stat().st_size:,} bytes"
    except OSError:
        size = "too big"
    return (
        f"the lesson is too big ({size}; at most {MAX_LESSON_BYTES // 1024} kB): "
        "split it into several lessons"
    )


def read_lesson(path: Path) -> tuple[LessonSource | None, list[LessonProblem]]:
    """The parsed lesson.md, or None and the problems that stop it from being read."""
    try:
        raw = _read_bounded(path, MAX_LESSON_BYTES)
    except OSError as exc:
        return None, [LessonProblem(path, 1, f"cannot read the file: {exc.strerror or exc}")]
    if raw is None:
        return None, [LessonProblem(path, 1, _too_big(path))]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [LessonProblem(path, 1, f"not UTF-8 text ({exc.reason} at byte {exc.start})")]
    stripped = text.lstrip()  # python-frontmatter strips leading blank lines too
    first_line = text[: len(text) - len(stripped)].count("\n") + 1
    handler = frontmatter.YAMLHandler()
    if not handler.detect(stripped):
        return None, [LessonProblem(path, first_line, "no front matter: lesson.md must start with a `---` line")]
    try:
        fm_text, content = handler.split(stripped)
    except ValueError:
        return None, [LessonProblem(path, first_line, "the front matter is not closed: end it with a `---` line")]
    # fm_text starts right after the opening `---`, i.e. on its line.
    offset = first_line
    try:
        unsafe = _unsafe_structure(fm_text, offset, path)
        if unsafe is not None:
            return None, [unsafe]
        root = yaml.compose(fm_text, Loader=_LOADER)
        # As frontmatter.parse would, with the fast loader: the mapping, and the text after it.
        loaded = handler.load(fm_text, Loader=_LOADER)
        meta, body = (loaded if isinstance(loaded, dict) else {}), content.strip()
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(path, offset, first_line, exc)]
    if root is None:
        return None, [
            LessonProblem(path, first_line, "the front matter is empty: it needs at least id, title and order")
        ]
    if not isinstance(root, yaml.MappingNode):
        line = root.start_mark.line + offset
        return None, [LessonProblem(path, line, "the front matter must be a mapping of `key: value` lines")]
    problems = _duplicate_keys(root, offset, path)
    source = LessonSource(path, dict(meta), body, root, first_line, offset)
    return source, problems
