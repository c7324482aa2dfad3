"""`tutor layers`: the base image of a learner's own images, tagged again and again."""

from __future__ import annotations

from tutor.commands.layers import history_steps


def _entry(created_by: str, size: int, created: int, image_id: str = "<missing>", tags=None) -> dict:
    return {"Id": image_id, "CreatedBy": created_by, "Size": size, "Created": created, "Tags": tags}


GOLANG = [_entry("", 238_000_000, 1, "sha256:g", ["golang:1.24-alpine"])]
STEPS = [
    _entry("ENV GO111MODULE=on", 0, 10),
    _entry("WORKDIR /app", 0, 11),
    _entry("COPY go.mod ./ # buildkit", 23, 12),
    _entry("RUN /bin/sh -c go mod download # buildkit", 16_000, 13),
    _entry("COPY . . # buildkit", 1500, 14),
    _entry("RUN /bin/sh -c go build -o main # buildkit", 91_000_000, 15),
    _entry("EXPOSE map[8080/tcp:{}]", 0, 16),
    _entry('CMD ["./main"]', 0, 17),
]


def _history(entries: list[dict]) -> list[dict]:
    """As the engine answers: newest first; BuildKit leaves every id but the image's own <missing>."""
    newest_first = [dict(e) for e in reversed(entries)]
    for entry in newest_first[1:]:
        if entry["Created"] != 1:
            entry["Id"] = "<missing>"
    return newest_first


def test_a_buildkit_image_finds_its_base_among_the_tagged_images():
    app1 = _history(GOLANG + STEPS)
    steps, base = history_steps(app1, {"golang:1.24-alpine": _history(GOLANG)})
    assert base == "golang:1.24-alpine"
    assert [s.instruction for s in steps][:2] == ["FROM golang:1.24-alpine", "ENV GO111MODULE=on"]
    assert len(steps) == 9 and steps[6].instruction == "RUN go build -o main"


def test_successive_tags_of_the_learner_s_builds_are_not_the_base():
    app1 = _history(GOLANG + STEPS)
    app2 = _history(GOLANG + STEPS + [_entry('LABEL version="2"', 0, 18)])  # built on top of the same steps
    tagged = {"app:1": app1, "app:1-copy": app1, "golang:1.24-alpine": _history(GOLANG)}
    steps, base = history_steps(app2, tagged)
    assert base == "golang:1.24-alpine" and len(steps) == 10
    # The same image tagged twice is not its own base either.
    steps, base = history_steps(app1, {"app:1": app1, "golang:1.24-alpine": _history(GOLANG)})
    assert base == "golang:1.24-alpine" and len(steps) == 9


def test_the_classic_builder_s_ids_name_the_oldest_tagged_ancestor():
    chain = [dict(e, Id=f"sha256:{i}") for i, e in enumerate(GOLANG + STEPS)]
    chain[0]["Tags"] = ["golang:1.24-alpine"]
    chain[5]["Tags"] = ["app:1"]  # an earlier build of the learner's, stopped after go mod download
    steps, base = history_steps(list(reversed(chain)))
    assert base == "golang:1.24-alpine" and len(steps) == 9
