"""What the engine-side helper prints, read back; which engines are asked from their side."""

from __future__ import annotations

from tutor.engine.engine_probe import BODY_MARK, NO_ANSWER, engine_side, parse_output


def test_any_engine_but_a_unix_socket_is_asked_from_its_side(monkeypatch):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert not engine_side("unix:///var/run/docker.sock")
    assert engine_side("tcp://127.0.0.1:2375") and engine_side("ssh://tutor@10.0.0.6")
    monkeypatch.setenv("DOCKER_HOST", "tcp://10.0.0.5:2376")
    assert engine_side(None)


def test_an_answer_its_status_and_body():
    text = f"HTTP/1.1 200 OK\n{BODY_MARK}\nHello, Docker with Go!\n"
    assert parse_output(text) == (200, "OK", "Hello, Docker with Go!\n", None)


def test_an_error_status_is_an_answer():
    assert parse_output(f"HTTP/1.1 404 Not Found\n{BODY_MARK}\n") == (404, "Not Found", "", None)


def test_no_answer_says_why():
    text = f"{NO_ANSWER} wget: can't connect to remote host (172.17.0.3): Connection refused\n{BODY_MARK}\n"
    assert parse_output(text) == (None, "", "", "can't connect to remote host (172.17.0.3): Connection refused")
    assert parse_output("")[3] == "the helper printed nothing"
