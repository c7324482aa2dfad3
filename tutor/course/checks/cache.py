"""The cache checks: which steps came from the cache, which were rebuilt, and the learner's
prediction of it. They need a scenario: a single build's cache depends on what was built before."""

from __future__ import annotations

from tutor.course import dockerfile as df
from tutor.course.checks import arguments
from tutor.course.checks.kind import CheckKind, Evidence, Verdict, cap
from tutor.course.checks.steps import label, line_of, no_build, plan, ref_text, resolve, status_word, stopped_note
from tutor.engine.record import BUILT, CACHED, FAILED, METADATA, BuildRecord

CACHED_WORD, REBUILT_WORD = "cached", "rebuilt"


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


def _cache_state(argument: tuple[str | int, ...], ev: Evidence, want_cached: bool) -> Verdict:
    record = ev.record
    wanted = "came from the cache" if want_cached else "was rebuilt"
    expected = " and ".join(ref_text(ref) for ref in argument) + f" {wanted}"
    problems: list[str] = []
    good: list[str] = []
    line = None
    for ref in argument:
        numbers, why = resolve(ref, ev)
        if why:
            problems.append(why)
            continue
        for number in numbers:
            state = record.steps.get(number)
            if state is None:
                planned = next(p for p in plan(ev) if p.step == number)
                problems.append(f"{label(number, planned.instruction)} never ran{stopped_note(record)}")
                line = line or planned.line
                continue
            # a config-only instruction on BuildKit runs nothing: nothing to rebuild, so it counts as kept
            ok = state.status in (CACHED, METADATA) if want_cached else state.status in (BUILT, FAILED)
            text = f"{label(number, state.instruction, state)} {status_word(state)}"
            if ok:
                good.append(text)
            else:
                problems.append(text)
                line = line or line_of(ev, number)
    if problems:
        want = "from the cache" if want_cached else "rebuilt"
        found = "; ".join(problems)
        return False, expected, found, line, f"{cap(found)}: this exercise wants it {want}"
    found = "; ".join(good)
    return True, expected, found, None, cap(found)


def _cached(argument: tuple[str | int, ...], ev: Evidence) -> Verdict:
    return _cache_state(argument, ev, want_cached=True)


def _rebuilt(argument: tuple[str | int, ...], ev: Evidence) -> Verdict:
    return _cache_state(argument, ev, want_cached=False)


def _all_cached(argument: bool, ev: Evidence) -> Verdict:
    record = ev.record
    expected = "every step came from the cache"
    if not record.steps:
        return False, expected, no_build(record), None, cap(no_build(record))
    missed = [s for s in record.ordered if s.status not in (CACHED, METADATA)]  # config-only: no step to miss
    if not missed and record.result is not None:
        found = f"all {record.counted_steps} steps came from the cache"
        return True, expected, found, None, cap(found)
    if not missed:
        return False, expected, no_build(record), None, cap(no_build(record))
    first = missed[0]
    more = f" and {len(missed) - 1} more" if len(missed) > 1 else ""
    found = f"{label(first.step, first.instruction, first)} {status_word(first)}{more}"
    said = f"{cap(found)}: this exercise wants every step from the cache"
    return False, expected, found, line_of(ev, first.step), said


def _first_miss(argument: str | int, ev: Evidence) -> Verdict:
    record = ev.record
    expected = f"the first rebuilt step is {ref_text(argument)}"
    want = f"; this exercise wants the first rebuilt step to be {ref_text(argument)}"
    miss = record.first_miss
    if miss is None:
        if not record.steps:
            return False, expected, no_build(record), None, cap(no_build(record))
        found = "no step was rebuilt: all came from the cache"
        return False, expected, found, None, cap(found) + want
    ok = miss.step == argument if isinstance(argument, int) else df.matches(miss.instruction, argument)
    found = f"the first rebuilt step was {label(miss.step, miss.instruction, miss)}"
    return ok, expected, found, None if ok else line_of(ev, miss.step), cap(found) + ("" if ok else want)


def _prediction(argument: str, ev: Evidence) -> Verdict:
    expected = "your prediction of cached / rebuilt steps matches the build"
    if not ev.prediction:
        return False, expected, "no prediction was made", None, "No prediction was made: press t to predict, then build"
    actual = perfect_prediction(ev.record)
    if not actual:
        return False, expected, no_build(ev.record), None, cap(no_build(ev.record))
    said = {int(step): str(word).lower() for step, word in ev.prediction.items()}
    wrong: list[str] = []
    for step, truth in actual.items():
        guess = said.get(step)
        if guess != truth:
            state = ev.record.steps[step]
            guess_text = f"you said {guess}" if guess else "you did not say"
            wrong.append(f"{label(step, state.instruction, state)} was {truth}, {guess_text}")
    right = len(actual) - len(wrong)
    if not wrong:
        found = f"all {len(actual)} steps predicted right"
        return True, expected, found, None, f"Your prediction was right for all {len(actual)} steps"
    first_step = next(step for step, truth in actual.items() if said.get(step) != truth)
    found = f"{right} of {len(actual)} right: " + "; ".join(wrong[:3]) + (" ..." if len(wrong) > 3 else "")
    return False, expected, found, line_of(ev, first_step), f"Your prediction was {found}"



KINDS = (
    CheckKind("cached", arguments.step_refs, _cached, "{} comes from the cache", needs_scenario=True),
    CheckKind("rebuilt", arguments.step_refs, _rebuilt, "{} is rebuilt", needs_scenario=True),
    CheckKind(
        "all_cached", arguments.true, _all_cached, "every step comes from the cache", shown=lambda _: "", needs_scenario=True
    ),
    CheckKind(
        "first_miss", arguments.step_ref, _first_miss, "the first step to miss the cache is {}", needs_scenario=True
    ),
    CheckKind(
        "prediction",
        arguments.one_of("matches"),
        _prediction,
        "your prediction matches the build",
        shown=lambda _: "",
        needs_scenario=True,
        needs_predict=True,
    ),
)
