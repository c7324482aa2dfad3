"""Asking a container's server from the engine's side, for engines that are not on this machine.

A port published by a remote engine opens on the engine's host, not here, so ``curl localhost``
from the seat's machine reaches nothing. Instead a short-lived helper container runs on the same
engine and network as the learner's container (the course's ``alpine:latest``: busybox ``wget``),
asks ``http://<container address>:<port>/path`` until an answer comes or the time is up, and prints
the status line and the body. It carries the tutor's labels (kind ``probe``) and is removed after.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tutor.engine import labels
from tutor.engine.client import engine_url
from tutor.engine.probe import MAX_BODY, ProbeResult

HELPER_IMAGE = "alpine:latest"  # a course base image: every ready engine has it
KIND = "probe"
BODY_MARK = "--tutor-body--"
NO_ANSWER = "--tutor-no-answer--"
# Retry until an HTTP answer or the deadline, then print the last status line (or why none came)
# and the body. busybox wget -S prints the status line; `timeout` ends a try (no -T: some busybox
# builds crash on it).
_SCRIPT = """
end=$(( $(date +%s) + {timeout} ))
while :; do
  out=$(timeout 3 wget -S -O /tmp/body "{url}" 2>&1)
  case "$out" in *HTTP/*) break;; esac
  [ "$(date +%s)" -ge "$end" ] && break
  sleep 0.2
done
case "$out" in
  *HTTP/*) printf '%s\\n' "$out" | grep 'HTTP/' | tail -n 1 | sed 's/.*\\(HTTP\\/[0-9.]* .*\\)/\\1/' ;;
  *) echo "{no_answer} $(printf '%s' "$out" | tail -n 1)" ;;
esac
echo "{mark}"
head -c {max_body} /tmp/body 2>/dev/null
"""


def engine_side(url: str | None) -> bool:
    """True when the engine is not this machine's own (any engine but a unix socket): what it
    publishes opens on its host, so a check asks from the engine's side."""
    return not engine_url(url).startswith("unix://")


def container_address(api: Any, container_id: str) -> tuple[str, str] | None:
    """The container's address on its network and that network's name, or None."""
    settings = api.inspect_container(container_id).get("NetworkSettings") or {}
    for name, network in (settings.get("Networks") or {}).items():
        if network and network.get("IPAddress"):
            return str(network["IPAddress"]), str(name)
    if settings.get("IPAddress"):
        return str(settings["IPAddress"]), "bridge"
    return None


def parse_output(text: str) -> tuple[int | None, str, str, str | None]:
    """(status, reason, body, error) from what the helper printed."""
    head, _, body = text.partition(BODY_MARK + "\n")
    line = head.strip().splitlines()[-1] if head.strip() else ""
    if line.startswith(NO_ANSWER):
        why = line[len(NO_ANSWER) :].strip().removeprefix("wget: ")
        return None, "", "", why or "no answer"
    parts = line.split(" ", 2)
    if len(parts) >= 2 and parts[0].startswith("HTTP/") and parts[1].isdigit():
        return int(parts[1]), parts[2] if len(parts) > 2 else "", body, None
    return None, "", "", line or "the helper printed nothing"


def probe_from_engine(
    api: Any,
    container_id: str,
    port: int,
    path: str = "/",
    *,
    seat: str,
    lesson: str | None = None,
    timeout: float = 15.0,
    still_running: Callable[[], bool] | None = None,
) -> ProbeResult:
    """GET ``path`` on the container's ``port`` from a helper container on the same engine."""
    if not path.startswith("/"):
        path = "/" + path
    where = container_address(api, container_id)
    if where is None:
        return ProbeResult(False, f"http://<container>:{port}{path}", error="the container has no network address")
    address, network = where
    url = f"http://{address}:{port}{path}"
    cli = f"docker run --rm --network {network} {HELPER_IMAGE} wget -qO- {url}"
    script = _SCRIPT.format(timeout=max(1, round(timeout)), url=url, no_answer=NO_ANSWER, mark=BODY_MARK, max_body=MAX_BODY)
    helper = api.create_container(
        HELPER_IMAGE,
        command=["sh", "-c", script],
        labels=labels.managed_labels(seat, lesson, kind=KIND),
        host_config=api.create_host_config(network_mode=network, privileged=False, auto_remove=False),
    )["Id"]
    try:
        api.start(helper)
        deadline = time.monotonic() + timeout + 10  # the helper's own deadline ends it first
        while True:
            state = api.inspect_container(helper)["State"]
            if not state.get("Running"):
                break
            if time.monotonic() > deadline or (still_running is not None and not still_running()):
                api.kill(helper)  # the learner's container exited: no answer will come
                break
            time.sleep(0.1)
        output = api.logs(helper, stdout=True, stderr=False).decode("utf-8", "replace")
    finally:
        try:
            api.remove_container(helper, force=True)
        except Exception:  # noqa: BLE001 - gone already
            pass
    status, reason, body, error = parse_output(output)
    if status is None:
        return ProbeResult(False, url, error=error or "no answer", cli=cli)
    # No latency: the helper's start would count in it.
    return ProbeResult(200 <= status < 400, url, status, reason, body, cli=cli)
