"""The context check: what the build context sends the engine (.dockerignore)."""

from __future__ import annotations

import fnmatch

from tutor.course.checks import arguments
from tutor.course.checks.kind import CheckKind, Evidence, Verdict, cap


def _context_excludes(names: tuple[str, ...], ev: Evidence) -> Verdict:
    # Here, not at the top: the context module loads the docker SDK, which loading a course must not.
    from tutor.engine.context import context_files

    expected = " and ".join(names) + " not sent in the build context"
    try:
        sent = context_files(ev.context, ev.dockerfile_name)
    except OSError as exc:
        found = f"the context could not be read: {exc}"
        return False, expected, found, None, cap(found)
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



KINDS = (
    CheckKind(
        "context_excludes",
        arguments.texts,
        _context_excludes,
        lambda names: " and ".join(str(name) for name in names) + " is not sent to the engine (.dockerignore)",
    ),
)
