"""What a seat's builds may start from and where its containers may publish (no engine)."""

from __future__ import annotations

import pytest

from tutor.engine import seat_rules
from tutor.engine.seat_rules import PortRefused, check_build_sources, check_publish
from tutor.seat import Seat

SEAT = "a"

# Every way of writing "another seat's image" that the classic builder would still accept.
OTHER_SEAT = {
    "from": ("FROM tutor/b/go_app\nRUN cat /app/main.go\n", 1),
    "from-tag-and-registry": ("FROM docker.io/tutor/b/go_app:latest\n", 1),
    "from-platform-flag": ("FROM --platform=linux/amd64 tutor/b/go_app AS x\n", 1),
    "lower-case-keyword": ("from tutor/b/go_app\n", 1),
    "continuation": ("FROM tutor/\\\n# a comment inside\nb/go_app\n", 1),
    "escape-directive": ("# escape=`\nFROM tutor/`\nb/go_app\n", 2),
    "meta-arg": ("ARG BASE=tutor/b/go_app\nFROM $BASE\n", 2),
    "meta-arg-braces": ("ARG BASE=tutor/b/go_app\nFROM ${BASE}\n", 2),
    "arg-default": ("ARG BASE\nFROM ${BASE:-tutor/b/go_app}\n", 2),
    "copy-from": ("FROM alpine:latest\nCOPY --from=tutor/b/go_app /app /app\n", 2),
    "copy-from-arg": ("FROM alpine:latest\nARG X=tutor/b/go_app\nCOPY --from=$X /app /app\n", 3),
    "run-mount": ("FROM alpine:latest\nRUN --mount=type=bind,from=tutor/b/go_app,target=/x cat /x/main.go\n", 2),
    "onbuild": ("FROM alpine:latest\nONBUILD COPY --from=tutor/b/go_app /app /app\n", 2),
    "second-stage": ("FROM golang:1.24-alpine AS builder\nRUN true\nFROM tutor/b/go_app\n", 3),
}


@pytest.mark.parametrize("strict", [False, True], ids=["own-machine", "workshop"])
@pytest.mark.parametrize("name", list(OTHER_SEAT))
def test_another_seats_image_is_refused_everywhere(name: str, strict: bool) -> None:
    text, line = OTHER_SEAT[name]
    refusal = check_build_sources(text, SEAT, strict=strict)
    assert refusal is not None, text
    assert refusal.line == line
    assert refusal.message.startswith(f"line {line}: ")
    assert "seat b" in refusal.message
    assert "golang:1.24-alpine" in refusal.message and "tutor/a/" in refusal.message  # what is allowed


ALLOWED = {
    "bases": "FROM golang:1.24-alpine AS builder\nRUN go version\nFROM alpine:latest\nCOPY --from=builder /a /a\n",
    "library-name": "FROM docker.io/library/alpine:latest\n",
    "scratch-and-index": "FROM golang:1.24-alpine\nRUN true\nFROM scratch\nCOPY --from=0 /a /a\n",
    "stage-by-name": "FROM golang:1.24-alpine AS Base\nFROM base\nRUN true\n",
    "own-images": "FROM tutor/a/go_app\nCOPY --from=tutor/a/other:latest /x /x\n",
    "meta-arg-base": "ARG V=1.24\nFROM golang:${V}-alpine\n",
}


@pytest.mark.parametrize("strict", [False, True], ids=["own-machine", "workshop"])
@pytest.mark.parametrize("name", list(ALLOWED))
def test_base_images_stages_and_own_images_are_allowed(name: str, strict: bool) -> None:
    assert check_build_sources(ALLOWED[name], SEAT, strict=strict) is None


@pytest.mark.parametrize(
    "text",
    [
        "FROM busybox\n",
        "FROM alpine:3.19\n",
        "FROM sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
        "FROM alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
        "FROM alpine:latest\nCOPY --from=busybox /bin/sh /sh\n",
        "FROM golang:1.24-alpine AS builder\nFROM builder2\n",
        "ARG BASE\nFROM $BASE\n",
    ],
)
def test_a_workshop_seat_builds_only_from_the_course_images(text: str) -> None:
    refusal = check_build_sources(text, SEAT, strict=True)
    assert refusal is not None
    assert "golang:1.24-alpine, alpine:latest" in refusal.message


def test_own_machine_may_build_from_anything_else() -> None:
    assert check_build_sources("FROM busybox\nCOPY --from=nginx:1.27 /etc /etc\n", SEAT, strict=False) is None


def test_workshop_rules_come_from_the_seat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(seat_rules.ENV_RULES, "")
    monkeypatch.setenv(seat_rules.ENV_PORTS, "")
    assert check_build_sources("FROM busybox\n", SEAT) is None
    # The process serving a workshop seat is started with the seat's environment.
    env = Seat("kiosk-3", workshop=True, port_range=(18760, 18769)).environment({})
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert seat_rules.workshop_rules() and seat_rules.seat_port_range() == (18760, 18769)
    assert check_build_sources("FROM busybox\n", "kiosk-3") is not None


def test_ports_outside_the_seats_range_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(seat_rules.ENV_RULES, "kiosk")
    monkeypatch.setenv(seat_rules.ENV_PORTS, "18760-18769")
    check_publish({18761: 8080}, "127.0.0.1")
    with pytest.raises(PortRefused, match="18760-18769"):
        check_publish({80: 8080}, "127.0.0.1")
    with pytest.raises(PortRefused, match="127.0.0.1 only"):
        check_publish({18761: 8080}, "0.0.0.0")


def test_outside_a_workshop_any_port_is_published(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(seat_rules.ENV_RULES, raising=False)
    monkeypatch.delenv(seat_rules.ENV_PORTS, raising=False)
    check_publish({80: 8080}, "0.0.0.0")
