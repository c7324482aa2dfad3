"""Dockerfile highlighting for Textual's TextArea.

Textual ships no Dockerfile grammar.  With ``tree-sitter`` and
``tree-sitter-dockerfile`` installed, the grammar is registered as the language
``dockerfile``.  Without them (or when the grammar does not load with the
installed tree-sitter), ``CodeEditor`` falls back to a small line-based
highlighter for keywords, comments, strings, variables and image names, so a
learner never gets an editor that fails to open.
"""

from __future__ import annotations

import re
import warnings
from collections import defaultdict
from functools import lru_cache
from typing import Any

from textual.widgets import TextArea
from textual.widgets.text_area import LanguageDoesNotExist

DOCKERFILE = "dockerfile"

# Extra captures on top of the grammar's own query: image names, tags, stage names, flags, ports.
_EXTRA_QUERY = """
(image_name) @type
(image_tag) @number
(image_digest) @number
(image_alias) @tag
(param) @keyword.operator
(expose_port) @number
(env_pair name: (_) @constant.builtin)
(arg_instruction name: (_) @constant.builtin)
"""

KEYWORDS = (
    "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
    "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
)  # fmt: skip

Highlight = tuple[int, "int | None", str]  # (start byte, end byte or None: to the end, capture name)

_KEYWORD_RE = re.compile(r"^(\s*)(" + "|".join(KEYWORDS) + r")\b", re.IGNORECASE)
_ONBUILD_RE = re.compile(r"^(\s*ONBUILD\s+)(" + "|".join(KEYWORDS) + r")\b", re.IGNORECASE)
_COMMENT_RE = re.compile(r"^\s*#.*$")
_STRING_RE = re.compile(r"\"(?:[^\"\\]|\\.)*\"?|'[^']*'?")
_VARIABLE_RE = re.compile(r"\$(?:\{[^}\s]*\}?|[A-Za-z_][A-Za-z0-9_]*)")
_FLAG_RE = re.compile(r"(?<!\S)--[a-z-]+(?:=\S*)?")
_FROM_RE = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+(AS)\s+(\S+))?", re.IGNORECASE)


@lru_cache(maxsize=1)
def tree_sitter_dockerfile() -> tuple[Any, str] | None:
    """The tree-sitter Language and highlight query for Dockerfiles, or None when unavailable."""
    try:
        from importlib.resources import files

        import tree_sitter_dockerfile as grammar
        from tree_sitter import Language, Query
    except ImportError:
        return None
    try:
        with warnings.catch_warnings():
            # The grammar hands tree-sitter an int pointer, which newer tree-sitter deprecates.
            warnings.simplefilter("ignore", DeprecationWarning)
            language = Language(grammar.language())
        shipped = (files(grammar) / "queries" / "highlights.scm").read_text(encoding="utf-8")
    except Exception:  # noqa: BLE001 - any mismatch between grammar and tree-sitter means: no grammar
        return None
    for query in (shipped + _EXTRA_QUERY, shipped):
        try:
            Query(language, query)
        except Exception:  # noqa: BLE001 - a query this grammar version does not know
            continue
        return language, query
    return None


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def regex_highlights(text: str) -> dict[int, list[Highlight]]:
    """Line index -> highlights (UTF-8 byte offsets, like tree-sitter's) for a Dockerfile text.

    Line based on purpose: it never fails on a half-typed file.  A line after a
    continuation backslash is not an instruction, so only its strings and
    variables are marked.
    """
    result: dict[int, list[Highlight]] = {}
    continued = False
    for index, line in enumerate(text.split("\n")):
        marks: list[tuple[int, int, str]] = []  # character offsets first
        if _COMMENT_RE.match(line):
            marks.append((line.index("#"), len(line), "comment"))
        else:
            if not continued:
                keyword = _ONBUILD_RE.match(line)
                if keyword:
                    onbuild = len(line) - len(line.lstrip())
                    marks.append((onbuild, onbuild + len("ONBUILD"), "keyword"))
                    marks.append((keyword.start(2), keyword.end(2), "keyword"))
                else:
                    keyword = _KEYWORD_RE.match(line)
                    if keyword:
                        marks.append((keyword.start(2), keyword.end(2), "keyword"))
                image = _FROM_RE.match(line)
                if image:
                    marks.append((image.start(1), image.end(1), "type"))
                    if image.group(2):
                        marks.append((image.start(2), image.end(2), "keyword"))
                        marks.append((image.start(3), image.end(3), "tag"))
            marks.extend((m.start(), m.end(), "keyword.operator") for m in _FLAG_RE.finditer(line))
            marks.extend((m.start(), m.end(), "constant.builtin") for m in _VARIABLE_RE.finditer(line))
            marks.extend((m.start(), m.end(), "string") for m in _STRING_RE.finditer(line))
            continued = line.rstrip().endswith("\\")
        if marks:
            result[index] = [(_utf8_len(line[:start]), _utf8_len(line[:end]), name) for start, end, name in marks]
    return result


def language_for(filename: str) -> str | None:
    """The TextArea language to try for a workspace file, by its name."""
    name = filename.rsplit("/", 1)[-1]
    if name == "Dockerfile" or name.startswith("Dockerfile.") or name.endswith(".dockerfile"):
        return DOCKERFILE
    suffixes = {
        ".go": "go",
        ".json": "json",
        ".yaml": "yaml",
        ".yml": "yaml",
        ".toml": "toml",
        ".md": "markdown",
        ".sh": "bash",
    }
    for suffix, language in suffixes.items():
        if name.endswith(suffix):
            return language
    return None


class CodeEditor(TextArea):
    """A TextArea that highlights Dockerfiles with or without tree-sitter."""

    def __init__(self, text: str = "", *, filename: str = "", **kwargs: Any) -> None:
        super().__init__(text, **kwargs)
        self.filename = filename
        self._regex_dockerfile = False
        self.use_language(language_for(filename))

    def use_language(self, language: str | None) -> None:
        """Highlight as ``language`` when it can be; plain text (or the fallback) otherwise."""
        self._regex_dockerfile = False
        if language == DOCKERFILE:
            grammar = tree_sitter_dockerfile()
            if grammar is not None:
                self.register_language(DOCKERFILE, *grammar)
            else:
                self._regex_dockerfile = True
                language = None
        try:
            self.language = language
        except LanguageDoesNotExist:
            self.language = None  # e.g. Go without tree-sitter-go: plain text is fine
        if self._regex_dockerfile:
            self._build_highlight_map()

    def _build_highlight_map(self) -> None:
        super()._build_highlight_map()
        if getattr(self, "_regex_dockerfile", False):
            highlights = getattr(self, "_highlights", None)
            if isinstance(highlights, defaultdict):
                highlights.update(regex_highlights(self.text))
