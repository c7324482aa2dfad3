"""hadolint's findings on the saved Dockerfile, placed at the lines they are about.

``map_findings`` is pure: it turns hadolint's JSON findings into ``LintFinding``
rows tied to a line and to the build step of the instruction there (hadolint
names an instruction's first line, also for a shell problem deep in a
multi-line RUN).  ``LintView`` lists them; choosing one moves the editor there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tutor.engine.dockerfile import plan

LEVELS = ("error", "warning", "info", "style")  # most severe first, as hadolint ranks them
LEVEL_MARKS = {
    "error": ("●", "bold red"),
    "warning": ("▲", "bold yellow"),
    "info": ("◆", "cyan"),
    "style": ("·", "magenta"),
}

# Why a rule matters for someone learning to build images, in one line.
EXPLANATIONS: dict[str, str] = {
    "DL1000": "hadolint could not read the Dockerfile here: the engine will stop on this line too.",
    "DL3000": "WORKDIR takes an absolute path (/app); a relative one depends on the directories set before it.",
    "DL3001": "Interactive tools such as ssh, vim or shutdown make no sense in an image build.",
    "DL3002": "A container that runs as root can do more harm if it is broken into: end with a non-root USER.",
    "DL3003": "A `cd` lasts only for its own RUN; WORKDIR sets the directory for every later step.",
    "DL3004": "Builds run as root already, and sudo behaves oddly without a terminal.",
    "DL3006": "Without a tag the base image is whatever `latest` is today: name a version.",
    "DL3007": "`latest` moves: the same Dockerfile may build on a different base tomorrow. Pin a version tag.",
    "DL3008": "Unpinned apt packages make two builds of one Dockerfile differ.",
    "DL3009": "apt's package lists stay in the layer and make the image bigger: remove them in the same RUN.",
    "DL3013": "Unpinned pip packages make two builds of one Dockerfile differ.",
    "DL3015": "Recommended packages you did not ask for make the image bigger.",
    "DL3018": "Unpinned apk packages make two builds of one Dockerfile differ.",
    "DL3019": "apk's cache stays in the layer unless `--no-cache` keeps it out.",
    "DL3020": "ADD also fetches URLs and unpacks archives; COPY does only what it says, so prefer it for files.",
    "DL3021": "COPY with several sources needs a destination folder that ends with /.",
    "DL3022": "COPY --from should name a stage defined earlier with FROM ... AS name.",
    "DL3025": "In JSON form the command runs without /bin/sh in between, so it receives signals such as SIGTERM.",
    "DL3027": "apt is meant for people; apt-get is the stable choice for scripts.",
    "DL3042": "pip's download cache stays in the layer: use --no-cache-dir.",
    "DL3045": "A relative COPY destination depends on WORKDIR: set WORKDIR first.",
    "DL3047": "wget's progress bar floods the build log: use -q or --progress=dot:giga.",
    "DL3048": "Label keys should be lowercase with dots, e.g. org.opencontainers.image.title.",
    "DL3057": "A HEALTHCHECK lets the engine tell a running container from a working one.",
    "DL3059": "Every RUN adds a layer: consecutive RUNs that belong together can be one.",
    "DL3061": "A Dockerfile starts with FROM (or ARG for the FROM line, or comments).",
    "DL4000": "MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors=... instead.",
    "DL4001": "Using both wget and curl installs two tools for one job.",
    "DL4003": "Only the last CMD takes effect: the others are dead code.",
    "DL4004": "Only the last ENTRYPOINT takes effect: the others are dead code.",
    "DL4006": "In a RUN with a pipe, only the last command's failure stops the build unless `set -o pipefail`.",
}


@dataclass(frozen=True)
class LintFinding:
    code: str  # "DL3007", "SC2086"
    level: str  # error | warning | info | style
    message: str  # hadolint's own words
    line: int  # 1-based line of the file the finding points at
    end_line: int  # last line of the instruction at that line
    step: int | None  # the build step of that instruction (None: outside any instruction)
    explanation: str

    @property
    def label(self) -> str:
        return f"{self.code} line {self.line}: {self.message}"

    def covers(self, line: int) -> bool:
        return self.line <= line <= self.end_line


def explain(code: str) -> str:
    """One line on why rule ``code`` matters, or where to read about it."""
    if code in EXPLANATIONS:
        return EXPLANATIONS[code]
    if code.startswith("SC"):
        return f"ShellCheck found this in the RUN command's shell code: https://www.shellcheck.net/wiki/{code}"
    return f"See https://github.com/hadolint/hadolint/wiki/{code}"


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def map_findings(findings: Iterable[Mapping[str, Any]], text: str) -> list[LintFinding]:
    """hadolint's JSON findings for ``text`` -> findings tied to a line and a step, in file order.

    Entries that are not findings (no rule code) are dropped; a line outside the
    file (0, missing, past the end) is pinned to the nearest line that exists.
    """
    last_line = max(1, len(text.splitlines()))
    steps = plan(text)
    mapped: list[LintFinding] = []
    for finding in findings:
        if not isinstance(finding, Mapping):
            continue
        code = str(finding.get("code") or "").strip()
        if not code:
            continue
        level = str(finding.get("level") or "warning").lower()
        line = min(max(_as_int(finding.get("line")) or 1, 1), last_line)
        owner = next((s for s in steps if s.line <= line <= s.end_line), None)
        mapped.append(
            LintFinding(
                code=code,
                level=level,
                message=" ".join(str(finding.get("message") or "").split()),
                line=line,
                end_line=owner.end_line if owner else line,
                step=owner.step if owner else None,
                explanation=explain(code),
            )
        )
    rank = {level: index for index, level in enumerate(LEVELS)}
    mapped.sort(key=lambda f: (f.line, rank.get(f.level, len(rank)), f.code))
    return mapped


def findings_at(findings: Iterable[LintFinding], line: int) -> list[LintFinding]:
    """The findings about the instruction that ``line`` (1-based) belongs to."""
    return [f for f in findings if f.covers(line)]


def gutter_marks(findings: Iterable[LintFinding]) -> dict[int, tuple[str, str]]:
    """0-based line -> (mark, style) of its most severe finding, for the editor's gutter."""
    rank = {level: index for index, level in enumerate(LEVELS)}
    worst: dict[int, LintFinding] = {}
    for finding in findings:
        held = worst.get(finding.line)
        if held is None or rank.get(finding.level, 9) < rank.get(held.level, 9):
            worst[finding.line] = finding
    return {line - 1: LEVEL_MARKS.get(f.level, LEVEL_MARKS["info"]) for line, f in worst.items()}


def finding_text(finding: LintFinding) -> Text:
    mark, style = LEVEL_MARKS.get(finding.level, LEVEL_MARKS["info"])
    text = Text()
    text.append(f"{mark} ", style=style)
    text.append(finding.code, style="bold")
    text.append(f" line {finding.line}: ", style="bold")
    text.append(finding.message)
    text.append(f"\n  {finding.explanation}", style="dim")
    return text


class LintView(OptionList):
    """The findings of the saved Dockerfile, one option each; choosing one posts ``LintView.Chosen``."""

    DEFAULT_CSS = """
    LintView { height: auto; max-height: 12; border: round $warning 60%; border-title-align: left; }
    LintView.clean { border: round $success 60%; }
    """

    @dataclass
    class Chosen(Message):
        """The learner picked a finding: the screen moves the cursor to its line."""

        finding: LintFinding

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.findings: list[LintFinding] = []

    def on_mount(self) -> None:
        self.border_title = "hadolint"

    def show_findings(self, findings: list[LintFinding], of: str = "the saved Dockerfile") -> None:
        self.findings = list(findings)
        self.clear_options()
        self.set_class(not findings, "clean")
        if findings:
            self.add_options(Option(finding_text(f), id=f"finding-{n}") for n, f in enumerate(findings))
            self.highlighted = 0
            count = len(findings)
            self.border_title = f"hadolint: {count} finding{'s' if count != 1 else ''} in {of}"
        else:
            self.add_option(Option(Text("✓ no findings", style="green"), disabled=True))
            self.border_title = f"hadolint: {of} is clean"

    def show_problem(self, problem: str) -> None:
        self.findings = []
        self.clear_options()
        self.set_class(False, "clean")
        self.add_option(Option(Text(problem, style="yellow"), disabled=True))
        self.border_title = "hadolint"

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self.findings):
            self.post_message(self.Chosen(self.findings[event.option_index]))
