"""Layer sizes after a BuildKit build, from the final image's history (real `docker history` of
go_app and its multi-stage build, built with BuildKit on Docker 26.1.5)."""

from __future__ import annotations

from pathlib import Path

from tutor.engine.buildkit.sizes import step_sizes
from tutor.engine.buildlog import parse_steps

GO_APP = Path(__file__).resolve().parents[2] / "go_app"

SINGLE = [  # newest first, as the engine lists it
    {"CreatedBy": 'CMD ["./main"]', "Size": 0},
    {"CreatedBy": "EXPOSE map[8080/tcp:{}]", "Size": 0},
    {"CreatedBy": "RUN /bin/sh -c go build -o main # buildkit", "Size": 91_700_000},
    {"CreatedBy": "COPY . . # buildkit", "Size": 1520},
    {"CreatedBy": "RUN /bin/sh -c go mod download # buildkit", "Size": 16_400},
    {"CreatedBy": "COPY go.mod ./ # buildkit", "Size": 23},
    {"CreatedBy": "WORKDIR /app", "Size": 0},
    {"CreatedBy": "ENV GO111MODULE=on CGO_ENABLED=0 GOOS=linux GOARCH=amd64", "Size": 0},
    {"CreatedBy": "", "Size": 238_000_000},  # the stand-in base image, imported
]
MULTI = [
    {"CreatedBy": 'CMD ["./main"]', "Size": 0},
    {"CreatedBy": "EXPOSE map[8080/tcp:{}]", "Size": 0},
    {"CreatedBy": "COPY /app/main . # buildkit", "Size": 8_150_000},
    {"CreatedBy": "WORKDIR /root/", "Size": 0},
    {"CreatedBy": "", "Size": 1_990_000},
]


def test_single_stage_sizes_map_to_their_steps():
    steps = parse_steps((GO_APP / "Dockerfile").read_text())
    assert step_sizes(SINGLE, steps, 0) == {1: 238_000_000, 2: 0, 3: 0, 4: 23, 5: 16_400, 6: 1520, 7: 91_700_000, 8: 0, 9: 0}


def test_the_final_stage_of_a_multistage_build():
    steps = parse_steps((GO_APP / "Dockerfile.multistage").read_text())
    final = max(s.stage for s in steps)
    sizes = step_sizes(MULTI, steps, final)
    copy_from = next(s.step for s in steps if s.text.startswith("COPY --from=builder"))
    from_alpine = next(s.step for s in steps if s.text == "FROM alpine:latest")
    assert sizes[copy_from] == 8_150_000 and sizes[from_alpine] == 1_990_000
    assert not any(s.step in sizes for s in steps if s.stage != final)


def test_a_history_that_does_not_line_up_gives_no_sizes():
    steps = parse_steps((GO_APP / "Dockerfile").read_text())
    assert step_sizes(SINGLE[1:], steps, 0) == {}
    assert step_sizes(SINGLE[:3], steps, 0) == {}
