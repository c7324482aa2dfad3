"""The size checks: the final image against a limit, in the units `docker images` uses."""

from __future__ import annotations

from tutor import fmt
from tutor.course.checks import arguments
from tutor.course.checks.kind import CheckKind, Evidence, Verdict, cap
from tutor.course.checks.steps import no_build


def _size_verdict(limit: int, ev: Evidence, smaller: bool) -> Verdict:
    expected = f"an image {'smaller' if smaller else 'larger'} than {fmt.size(limit)}"
    result = ev.record.result
    if result is None:
        return False, expected, no_build(ev.record), None, cap(no_build(ev.record))
    if result.image_size is None:
        found = "the engine did not report the image's size"
        return False, expected, found, None, cap(found)
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



KINDS = (
    CheckKind("image_smaller_than", arguments.size, _smaller, "the image is smaller than {}", shown=fmt.size),
    CheckKind("image_larger_than", arguments.size, _larger, "the image is larger than {}", shown=fmt.size),
)
