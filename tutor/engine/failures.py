"""Advice for a failed build: the engine's message is exact but terse; say what to do."""

from __future__ import annotations

import re

_INSTRUCTIONS = "FROM, RUN, CMD, LABEL, EXPOSE, ENV, ADD, COPY, ENTRYPOINT, VOLUME, USER, WORKDIR, ARG, ONBUILD, STOPSIGNAL, HEALTHCHECK, SHELL"
_REGISTRY = re.compile(
    r"registry|dial tcp|no such host|pull access denied|manifest unknown|not found: manifest|repository does not exist",
    re.IGNORECASE,
)


# `./main.go:12:5: undefined: x`, `main.go:3: syntax error`: a compiler naming the file and line.
_COMPILER_LINE = re.compile(r"^\s*\S+\.[A-Za-z0-9]+:\d+(?::\d+)?: \S")
# 128 + 9: the kernel's SIGKILL (the OOM killer, or `docker kill`/`rm -f` of the step's container).
_KILLED = re.compile(r"(?:non-zero code|exit code): 137\b")
_TARGET_MISSING = re.compile(r'target stage "?([^"\s]+)"? could not be found|failed to reach build target (\S+)')
_COPY_FROM_MISSING = re.compile(r"stat (\S+): file does not exist", re.IGNORECASE)


def _what_it_said(output: tuple[str, ...]) -> str | None:
    """The lines of a failed command that say why: a compiler's file:line messages, else its last line."""
    lines = [line.rstrip() for line in output if line.strip()]
    compiler = [line.strip() for line in lines if _COMPILER_LINE.match(line)]
    if compiler:
        more = f" (and {len(compiler) - 3} more)" if len(compiler) > 3 else ""
        return "; ".join(compiler[:3]) + more
    return lines[-1].strip() if lines else None


def advise(message: str, instruction: str | None, output: tuple[str, ...] = ()) -> str | None:
    """A fix for the learner, or None when the message says it all. ``output``: the step's last lines."""
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
    # The classic builder: "returned a non-zero code: 1"; BuildKit: "did not complete successfully: exit code: 1".
    if "returned a non-zero code" in message or "did not complete successfully" in message:
        if _KILLED.search(message):
            return (
                "Exit code 137 means the command was killed (SIGKILL), not that it failed: most often the "
                "build ran out of memory, or the build container was stopped from outside. Build again; if "
                "it happens every time, give the engine more memory (Docker Desktop: Settings, Resources)."
            )
        said = _what_it_said(output)
        if said and any(_COMPILER_LINE.match(line) for line in output):
            return f"The compiler stopped at {said}. Fix that line of the source and build again."
        if said:
            return f"The command failed inside the build container; its output ends with: {said}"
        return "The command failed inside the build container: its output just above says why."
    if keyword == "COPY" and "--from=" in (instruction or "") and _COPY_FROM_MISSING.search(message):
        path = _COPY_FROM_MISSING.search(message).group(1)  # type: ignore[union-attr]  # the if above found it
        return (
            f"The stage it copies from has no {path}. COPY --from reads paths from that stage's root (/), "
            "not from its WORKDIR: copy the absolute path its build wrote, e.g. the -o of `go build` "
            "joined to the stage's WORKDIR (COPY --from=builder /app/main .)."
        )
    # BuildKit: `target stage "local" could not be found`; the classic builder: `failed to reach build target local in Dockerfile`.
    target = _TARGET_MISSING.search(message)
    if target:
        name = target.group(1) or target.group(2)
        return (
            f"--target {name} builds the stage named {name}, and this Dockerfile has none: "
            f"name the stage that makes that image with `FROM <image or stage> AS {name}`."
        )
    if "no build stage in current context" in message.lower() or "first instruction must be from" in message.lower():
        return "A Dockerfile starts with FROM (only ARG may come before it)."
    if "cannot parse" in message.lower() or "json" in message.lower() and keyword in ("CMD", "ENTRYPOINT", "RUN"):
        return 'The JSON form needs double quotes and brackets, e.g. CMD ["./main"].'
    return None


_NO_SHELL = re.compile(r'exec: "?/bin/(?:ba)?sh"?: stat /bin/(?:ba)?sh: no such file or directory|"/bin/sh": stat')
_NO_PROGRAM = re.compile(r'exec: "([^"]+)": (?:stat \S+: no such file or directory|executable file not found in \$PATH)')


def advise_start(message: str) -> str | None:
    """Why a container could not start, in the learner's words: the engine names only a path."""
    if _NO_SHELL.search(message):
        return (
            "The image has no shell: a CMD (or ENTRYPOINT) in shell form runs `/bin/sh -c ...`, and "
            "`scratch` (like distroless images) has no /bin/sh. Use the exec form with the program's "
            'absolute path, e.g. CMD ["/main"].'
        )
    found = _NO_PROGRAM.search(message)
    if found:
        return (
            f"The image has no {found.group(1)} where the container looks for it (a relative path starts at "
            "the image's WORKDIR, a bare name is looked up in PATH). Check where the Dockerfile copies the "
            "program, and name that path in CMD."
        )
    return None
