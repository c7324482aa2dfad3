"""Host ports: free or busy (real sockets), the free one offered instead, `-p` parsing."""

from __future__ import annotations

import socket

import pytest

from tutor.engine.ports import any_free_port, find_free_port, is_port_free, parse_mapping


@pytest.fixture
def busy_port():
    """A port held by a listening socket for the duration of the test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("8080:8080", (8080, 8080)),
        ("18080:8080", (18080, 8080)),
        (" 3000:80 ", (3000, 80)),
        ("8080:8080/tcp", (8080, 8080)),
        ("65535:1", (65535, 1)),
    ],
)
def test_parse_mapping_accepts_docker_forms(spec: str, expected: tuple[int, int]) -> None:
    assert parse_mapping(spec) == expected


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("", "not a port mapping"),
        ("abc", "container port 'abc' is not a number"),
        ("http:8080", "host port 'http' is not a number"),
        (":8080", "host port is missing"),
        ("8080:", "container port is missing"),
        ("70000:8080", "host port 70000 is out of range"),
        ("8080:0", "container port 0 is out of range"),
        ("8080:8080/udp", "only TCP"),
        ("127.0.0.1:8080:8080", "only HOST:CONTAINER"),
        ("8080-8090:8080", "is not a number"),
        ("8080", "random host port; give both sides"),  # what `docker run -p 8080` does
    ],
)
def test_parse_mapping_explains_bad_input(spec: str, says: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_mapping(spec)
    assert says in str(info.value)
    if "number" in says or "missing" in says or "mapping" in says:
        assert "HOST:CONTAINER" in str(info.value)  # a malformed mapping is shown the right form


def test_a_listening_port_is_busy_and_a_closed_one_is_free(busy_port: int) -> None:
    assert not is_port_free(busy_port)
    assert not is_port_free(busy_port, host="0.0.0.0")  # overlaps 127.0.0.1
    free = any_free_port()
    assert is_port_free(free)


def test_out_of_range_ports_are_never_free() -> None:
    assert not is_port_free(0)
    assert not is_port_free(70000)


def test_find_free_port_keeps_a_free_preferred_port() -> None:
    free = any_free_port()
    assert find_free_port(free) == free


def test_find_free_port_offers_the_next_free_one(busy_port: int) -> None:
    offered = find_free_port(busy_port)
    assert offered != busy_port
    assert is_port_free(offered)
    if busy_port < 65535 - 200:  # the search starts just above the busy port
        assert busy_port < offered <= busy_port + 200


def test_find_free_port_skips_ports_known_taken() -> None:
    free = any_free_port()
    offered = find_free_port(free, candidates=[free], taken={free})
    assert offered != free
    assert is_port_free(offered)
