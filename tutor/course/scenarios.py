"""What happens between an exercise's two builds; the checks then look at the second build.

Each scenario is declared once here: its name in lessons, its words for authors and learners,
and the edit it makes (in a scratch copy of the workspace, never the learner's files).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str  # for authors: what the tutor does
    words: str  # for learners: what pressing build does
    edits: str | None = None  # the file the edit writes (None: the second build changes nothing)
    edit_label: str = ""  # the second build's label says "build after <edit_label>"
    needs_file: bool = False  # the workspace must have the file: the edit appends to it

    def apply(self, context: Path) -> str:
        """Make the edit; unique each time, so no earlier build can have cached it. Says what it did."""
        if self.edits is None:
            return "nothing changed"
        target = context / self.edits
        stamp = time.time_ns()
        if not self.needs_file:
            target.write_text(f"debug output written at {stamp}\n", encoding="utf-8")
            return f"wrote {self.edits} into the build context"
        with target.open("a", encoding="utf-8") as fh:
            fh.write(f"\n// edited at {stamp}\n")
        return f"appended a comment line to {self.edits}"


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "rebuild",
            "build, then build again unchanged",
            "builds twice, changing nothing in between",
        ),
        Scenario(
            "edit-main-go",
            "build, append a comment line to main.go, build again",
            "builds, adds a comment line to main.go, then builds again",
            edits="main.go",
            edit_label="editing main.go",
            needs_file=True,
        ),
        Scenario(
            "edit-go-mod",
            "build, append a comment line to go.mod, build again",
            "builds, adds a comment line to go.mod, then builds again",
            edits="go.mod",
            edit_label="editing go.mod",
            needs_file=True,
        ),
        Scenario(
            "add-log-file",
            "build, write debug.log into the context, build again",
            "builds, writes a debug.log file into the folder, then builds again",
            edits="debug.log",
            edit_label="adding debug.log",
        ),
    )
}


def describe_scenario(name: str) -> str:
    """What pressing build does for a scenario, as a sentence."""
    scenario = SCENARIOS.get(name)
    does = scenario.words if scenario else name
    return f"When you build, the tutor {does} (in a copy: your files stay as they are); the checks look at the last build."
