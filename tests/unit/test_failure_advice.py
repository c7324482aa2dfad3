"""A failed build says why in the learner's words: the compiler's line, where COPY --from looks."""

from __future__ import annotations

from tutor.engine.failures import advise
from tutor.engine.stream import StreamParser


def test_a_failing_go_build_names_the_compiler_s_file_and_line():
    parser = StreamParser()
    events = []
    for chunk in [
        {"stream": "Step 4/4 : RUN go build -o app\n"},
        {"stream": " ---> Running in 0123456789ab\n"},
        {"stream": "# go_app\n./main.go:2:15: undefined: undefinedThing\n"},
        {"errorDetail": {"message": "The command '/bin/sh -c go build -o app' returned a non-zero code: 1"}},
    ]:
        events += parser.feed(chunk, 1.0)
    failed = events[-1]
    assert failed.step == 4
    assert failed.fix == (
        "The compiler stopped at ./main.go:2:15: undefined: undefinedThing. Fix that line of the source and build again."
    )


def test_many_compiler_errors_are_counted_not_all_listed():
    output = tuple(f"./main.go:{n}:1: undefined: x{n}" for n in range(1, 7))
    fix = advise("returned a non-zero code: 1", "RUN go build -o main", output)
    assert fix is not None and "./main.go:3:1" in fix and "(and 3 more)" in fix and "./main.go:4:1" not in fix


def test_copy_from_a_path_the_stage_does_not_have_says_where_to_look():
    fix = advise("COPY failed: stat main: file does not exist", "COPY --from=builder main .")
    assert fix is not None and "root (/)" in fix and "WORKDIR" in fix and "COPY --from=builder /app/main ." in fix


def test_a_shell_form_cmd_on_scratch_is_explained():
    from tutor.engine.failures import advise_start

    # What Docker 26 answers when `CMD ./main` (shell form) starts on `FROM scratch`.
    said = advise_start(
        'failed to create task for container: failed to create shim task: OCI runtime create failed: runc create '
        'failed: unable to start container process: exec: "/bin/sh": stat /bin/sh: no such file or directory: unknown'
    )
    assert said is not None and "scratch" in said and 'CMD ["/main"]' in said
    missing = advise_start('unable to start container process: exec: "./main": stat ./main: no such file or directory')
    assert missing is not None and "./main" in missing and "WORKDIR" in missing
    assert advise_start("port is already allocated") is None


def test_a_killed_command_is_told_apart_from_a_failing_one():
    """137 = 128 + SIGKILL: out of memory or stopped from outside, not the learner's command."""
    for message in (
        "The command '/bin/sh -c go build -o main && go clean -cache' returned a non-zero code: 137",
        'process "/bin/sh -c go build -o main" did not complete successfully: exit code: 137',
    ):
        fix = advise(message, "RUN go build -o main", ("# net/http",))
        assert fix is not None and fix.startswith("Exit code 137 means the command was killed"), fix
    other = advise("The command '/bin/sh -c false' returned a non-zero code: 1", "RUN false", ())
    assert other is not None and "137" not in other
