"""Malformed Dockerfiles on the real engine: every one ends in a clear message, never a crash.

Each case is built twice: with ``tutor build`` as a learner runs it (a subprocess:
exit code 1, an ``error:`` line, no traceback) and through ``tutor.engine.build.Build``
(a ``BuildFailed`` with a message, and the line or step wherever the engine names one).

The subprocess builds of all cases run once per module, a few at a time, so the
suite stays fast; most cases start FROM the 2 MB ``alpine:latest`` or fail before
any step runs.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ROOT, TEST_SEAT
from tutor.engine import labels
from tutor.engine.build import Build, BuildRequest
from tutor.engine.events import BuildFailed, BuildSucceeded, StepStarted

BASE = "FROM alpine:latest\n"
ENGINE_LINE = re.compile(r"\bline (\d+)\b")


@dataclass(frozen=True)
class Case:
    name: str
    dockerfile: bytes
    words: tuple[str, ...]  # the message names these (the instruction, or what is wrong)
    line: int | None = None  # the Dockerfile line the failure must point at
    step: int | None = None  # the step that must be reported as failing
    files: dict[str, bytes] = field(default_factory=dict)  # other files of the context


def _text(
    name: str, text: str, words: tuple[str, ...], line: int | None = None, step: int | None = None, **files: bytes
) -> Case:
    return Case(name, text.encode(), words, line, step, dict(files))


def _cases() -> list[Case]:
    cases = [
        # the named kinds of damage
        _text("unknown-instruction", BASE + "FORM busybox\n", ("unknown instruction", "FORM"), line=2),
        _text("shell-not-json", BASE + "SHELL /bin/sh -c\n", ("SHELL", "JSON"), line=2),
        _text("copy-json-no-comma", BASE + 'COPY ["a" "b"]\n', ("COPY",), step=2),
        _text("missing-from", "RUN echo hi\n", ("build stage",)),
        _text("missing-from-copy-first", "COPY . /app\nFROM alpine:latest\n", ("build stage",)),
        _text("empty-file", "", ("empty",)),
        _text("blank-lines-only", "\n\n   \n", ("no instructions",)),
        _text("comments-only", "# a Dockerfile\n# with nothing in it\n", ("no instructions",)),
        _text("one-megabyte-line", BASE + "RUN echo " + "x" * 1_000_000 + "\n", ("line", "65535"), line=2),
        _text("one-megabyte-label", BASE + "LABEL big=" + "y" * 1_000_000 + "\n", ("line", "65535"), line=2),
        _text("missing-copy-source", BASE + "COPY nothere.txt /x\n", ("COPY", "nothere.txt"), step=2),
        _text("missing-add-source", BASE + "ADD nothere.tar /x\n", ("ADD", "nothere.tar"), step=2),
        _text("copy-from-unknown-stage", BASE + "COPY --from=nostage /a /b\n", ("nostage",), step=2),
        _text("nonexistent-base", "FROM nosuch/image:1.0\n", ("registry",), step=1),
        _text("nonexistent-base-tag", "FROM alpine:0.0.0-nope\nRUN true\n", ("registry",), step=1),
        _text("uppercase-base", "FROM UPPER/Case:Tag\n", ("lowercase",), step=1),
        _text("from-no-image", "FROM\n", ("FROM",), line=1),
        _text("from-as-no-name", "FROM alpine:latest AS\n", ("FROM",), line=1),
        _text("copy-one-argument", BASE + "COPY onlyone\n", ("COPY", "two arguments"), line=2),
        _text("add-one-argument", BASE + "ADD onlyone\n", ("ADD", "two arguments"), line=2),
        _text("env-blank", BASE + "ENV\n", ("ENV",), line=2),
        _text("arg-blank", BASE + "ARG\n", ("ARG",), line=2),
        _text("workdir-blank", BASE + "WORKDIR\n", ("WORKDIR",), line=2),
        _text("user-blank", BASE + "USER\n", ("USER",), line=2),
        _text("volume-blank", BASE + "VOLUME\n", ("VOLUME",), line=2),
        _text("maintainer-blank", BASE + "MAINTAINER\n", ("MAINTAINER",), line=2),
        _text("label-without-value", BASE + "LABEL novalue\n", ("LABEL",)),
        _text("onbuild-from", BASE + "ONBUILD FROM alpine:latest\n", ("ONBUILD",), line=2),
        _text("healthcheck-bad-duration", BASE + "HEALTHCHECK --interval=abc CMD true\n", ("duration",), line=2),
        _text("copy-unknown-flag", BASE + "COPY --nope=1 a b\n", ("flag", "nope"), line=2),
        _text("expose-not-a-port", BASE + "EXPOSE notaport\n", ("notaport",), step=2),
        _text("stopsignal-unknown", BASE + "STOPSIGNAL NOTASIGNAL\n", ("signal",), step=2),
        _text("env-unclosed-variable", BASE + "ENV A=${B\n", ("${B",), step=2),
        _text("escape-directive", "# escape=xx\n" + BASE, ("escape",)),
        _text("run-mount-buildkit", BASE + "RUN --mount=type=cache,target=/x echo hi\n", ("BuildKit",), step=2),
        # Refused before building: Docker 23+ would drop the body and "succeed" (20.10 failed on its lines).
        _text("heredoc-buildkit", BASE + "RUN <<EOF\necho hi\nEOF\n", ("heredoc", "classic builder"), line=2),
        _text("run-fails", BASE + "RUN exit 3\n", ("non-zero code: 3",), step=2),
    ]
    # generated variants: misspelt instructions at different lines
    body = ["WORKDIR /app", "ENV A=1", "LABEL a=b", "EXPOSE 8080", "USER root", "ENV B=2", "WORKDIR /srv"]
    typos = ["RUNN", "COPPY", "CMDD", "EXPOSEE", "WROKDIR", "ENVV", "LABLE", "ENTRYPIONT", "ADDD", "FRMO"]
    for n, typo in enumerate(typos):
        lines = [BASE.strip()] + body[: n % len(body)] + [f"{typo} something"]
        cases.append(
            _text(f"typo-{typo.lower()}", "\n".join(lines) + "\n", ("unknown instruction", typo), line=len(lines))
        )
    # missing COPY sources, in different steps
    for n, source in enumerate(["main.go", "go.sum", "src/", "config/*.yaml", "../outside.txt"]):
        lines = [BASE.strip()] + ["WORKDIR /app"] * n + [f"COPY {source} ./"]
        cases.append(
            _text(
                f"missing-copy-{n}", "\n".join(lines) + "\n", ("COPY",), step=len(lines), **{"present.txt": b"here\n"}
            )
        )
    # failing commands with their exit codes
    for code in (1, 2, 127):
        cases.append(_text(f"run-exit-{code}", BASE + f"RUN exit {code}\n", (f"non-zero code: {code}",), step=2))
    # binary garbage, seeded, with and without a valid first line
    rng = random.Random(20240611)
    for n in range(4):
        garbage = bytes(rng.randrange(256) for _ in range(2000))
        garbage = b"\x01" + garbage  # never starts like an instruction
        cases.append(Case(f"binary-garbage-{n}", garbage, ("unknown instruction",), line=1))
        if n < 2:
            cases.append(Case(f"binary-after-from-{n}", BASE.encode() + garbage, ("unknown instruction",), line=2))
    return cases


CASES = _cases()


def _context(root: Path, case: Case) -> Path:
    ctx = root / case.name
    ctx.mkdir(parents=True)
    (ctx / "Dockerfile").write_bytes(case.dockerfile)
    for name, data in case.files.items():
        (ctx / name).write_bytes(data)
    return ctx


def _cli_build(ctx: Path, home: Path, builder: str = "classic") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TUTOR_HOME=str(home), TUTOR_SEAT=TEST_SEAT, NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-m", "tutor", "build", "--builder", builder, str(ctx)],
        capture_output=True,
        text=True,
        errors="replace",
        env=env,
        cwd=ROOT,
        timeout=180,
    )


@pytest.fixture(scope="module")
def contexts(tmp_path_factory: pytest.TempPathFactory, base_images) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad-dockerfiles")
    return {case.name: _context(root, case) for case in CASES}


@pytest.fixture(scope="module")
def cli_results(
    contexts: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, subprocess.CompletedProcess[str]]]:
    home = tmp_path_factory.mktemp("cli-home")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(_cli_build, ctx, home) for name, ctx in contexts.items()}
        yield {name: future.result() for name, future in futures.items()}


def test_there_are_at_least_fifty_cases() -> None:
    assert len(CASES) >= 50
    assert len({c.name for c in CASES}) == len(CASES)


def _printable(text: str) -> bool:
    return all(ch.isprintable() or ch in "\n\t" for ch in text)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_tutor_build_gives_a_clear_error(case: Case, cli_results: dict[str, subprocess.CompletedProcess[str]]) -> None:
    result = cli_results[case.name]
    output = result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, output
    errors = [line for line in result.stdout.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, output
    error = errors[0]
    assert _printable(error), repr(error)
    for word in case.words:
        assert word.lower() in error.lower(), (word, error)
    if case.line is not None:
        assert f"line {case.line}" in error, error
    if case.step is not None:
        assert f"step {case.step}/" in error, error
    assert len(output) < 20_000  # a 1 MB line is not echoed back in full


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_engine_build_fails_with_message_and_place(case: Case, contexts: dict[str, Path]) -> None:
    request = BuildRequest(
        contexts[case.name],
        tag=f"tutor/{TEST_SEAT}/bad-dockerfile:latest",
        labels=labels.managed_labels(TEST_SEAT, kind="build"),
    )
    events = list(Build(request).events())
    assert not any(isinstance(e, BuildSucceeded) for e in events)
    last = events[-1]
    assert isinstance(last, BuildFailed), last
    assert [e for e in events if isinstance(e, BuildFailed)] == [last]  # one failure, at the end
    assert last.message.strip() and _printable(last.message), repr(last.message)
    assert len(last.message) < 2_000
    assert not last.engine_lost and not last.cancelled
    for word in case.words:
        assert word.lower() in last.message.lower(), (word, last.message)
    named = ENGINE_LINE.search(last.message)
    if named:  # the engine named a line: the event carries it
        assert last.line == int(named.group(1))
    if case.line is not None:
        assert last.line == case.line, last
    started = [e.step for e in events if isinstance(e, StepStarted)]
    if case.step is not None:
        assert last.step == case.step and started[-1] == case.step, (last, started)
    elif started:  # a step was running when it failed: it is named
        assert last.step == started[-1]


# BuildKit (what `docker build` runs since Docker 23) where it tells these Dockerfiles apart from the
# classic builder: BuildKit syntax builds; a failed RUN says "exit code: N"; some mistakes are found
# while BuildKit turns the Dockerfile into its build graph, before any step runs.
BUILDKIT_BUILDS = {"run-mount-buildkit", "heredoc-buildkit"}
BUILDKIT_WORDS = {
    "run-fails": ("exit code: 3",),
    **{f"run-exit-{code}": (f"exit code: {code}",) for code in (1, 2, 127)},
    "copy-json-no-comma": ("pattern",),
}
BUILDKIT_BEFORE_ANY_STEP = {
    "copy-json-no-comma",
    "copy-from-unknown-stage",
    "nonexistent-base",
    "nonexistent-base-tag",
    "uppercase-base",
    "expose-not-a-port",
    "stopsignal-unknown",
    "env-unclosed-variable",
}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_buildkit_build_fails_with_message_and_place(case: Case, contexts: dict[str, Path], engine_api) -> None:
    tag = f"tutor/{TEST_SEAT}/bad-dockerfile-buildkit:latest"
    request = BuildRequest(
        contexts[case.name], tag=tag, labels=labels.managed_labels(TEST_SEAT, kind="build"), builder="buildkit"
    )
    build = Build(request)
    events = list(build.events())
    assert build.builder == "buildkit"
    last = events[-1]
    if case.name in BUILDKIT_BUILDS:
        assert isinstance(last, BuildSucceeded), events
        engine_api.remove_image(tag, force=True)
        return
    assert isinstance(last, BuildFailed), last
    assert [e for e in events if isinstance(e, BuildFailed)] == [last]
    assert last.message.strip() and _printable(last.message) and len(last.message) < 2_000, repr(last.message)
    assert not last.engine_lost and not last.cancelled
    for word in BUILDKIT_WORDS.get(case.name, case.words):
        assert word.lower() in last.message.lower(), (word, last.message)
    if case.line is not None:
        assert last.line == case.line, last
    started = [e.step for e in events if isinstance(e, StepStarted) and not e.metadata]
    if case.name in BUILDKIT_BEFORE_ANY_STEP:
        assert last.step is None and not started[1:], (last, started)
    elif case.step is not None:
        assert last.step == case.step and started[-1] == case.step, (last, started)
