"""Advice for a failed build: the engine's message is exact but terse; say what to do."""

from __future__ import annotations

import re

_INSTRUCTIONS = "FROM, RUN, CMD, LABEL, EXPOSE, ENV, ADD, COPY, ENTRYPOINT, VOLUME, USER, WORKDIR, ARG, ONBUILD, STOPSIGNAL, HEALTHCHECK, SHELL"
_REGISTRY = re.compile(
    r"registry|dial tcp|no such host|pull access denied|manifest unknown|not found: manifest|repository does not exist",
    re.IGNORECASE,
)


def advise(message: str, instruction: str | None) -> str | None:
    """A fix for the learner, or None when the message says it all."""
    keyword = instruction.split(None, 1)[0].upper() if instruction else ""
    if keyword == "FROM" and _REGISTRY.search(message):
        image = instruction.split()[1] if instruction and len(instruction.split()) > 1 else "the base image"
        return (
            f"{image} is not on this engine and no registry could provide it. Check the name and tag; "
            "for the course's images run `tutor images pull`, or `tutor images stand-in` when offline."
        )
    if "unknown instruction" in message.lower():
        return f"Every Dockerfile line starts with an instruction: {_INSTRUCTIONS}. Check the spelling on that line."
    if "file not found in build context" in message or "no such file or directory" in message.lower():
        if keyword in ("COPY", "ADD"):
            return (
                "A source of this COPY is not in the build context: check the path (it is relative to the "
                "context folder) and that .dockerignore does not exclude it."
            )
    if "returned a non-zero code" in message:
        return "The command failed inside the build container: its output just above says why."
    if "no build stage in current context" in message.lower() or "first instruction must be from" in message.lower():
        return "A Dockerfile starts with FROM (only ARG may come before it)."
    if "cannot parse" in message.lower() or "json" in message.lower() and keyword in ("CMD", "ENTRYPOINT", "RUN"):
        return 'The JSON form needs double quotes and brackets, e.g. CMD ["./main"].'
    return None
