"""The http check: a container of the image, its port published, answers a page."""

from __future__ import annotations

from typing import Any

from tutor import fmt
from tutor.course.checks import arguments
from tutor.course.checks.kind import CheckKind, Evidence, Verdict
from tutor.course.checks.steps import no_build
from tutor.course.model import HttpSpec


def _http(spec: HttpSpec, ev: Evidence) -> Verdict:
    want = f' with a body containing "{spec.contains}"' if spec.contains is not None else ""
    expected = f"GET {spec.path} on container port {spec.port} answers {spec.status}{want}"
    asked = f"port {spec.port}" + (f" at {spec.path}" if spec.path != "/" else "")
    if ev.record.result is None:
        return False, expected, no_build(ev.record), None, f"Nothing to run: {no_build(ev.record)}"
    if ev.http is None:
        found = "no container could be run to ask (no engine to run it on)"
        return False, expected, found, None, f"No container could be run to ask {asked}: no engine to run it on"
    answer = ev.http(spec.port, spec.path)
    if answer.status is None:
        why = answer.error or "nothing listened"
        return False, expected, f"no answer: {why}", None, f"Nothing answered on {asked} ({why})"
    body = fmt.ellipsize(answer.body, 120)
    found = f"HTTP {answer.status}" + (f": {body}" if body else " with an empty body")
    ok = answer.status == spec.status and (spec.contains is None or spec.contains in answer.body)
    shown = f'"{body}"' if body else "an empty page"
    if ok:
        said = f"The app answered on {asked}: {shown}"
    elif answer.status != spec.status:
        said = f"The app answered on {asked} with status {answer.status}; this exercise wants {spec.status}"
    else:
        said = f'The app answered on {asked} with {shown}; this exercise wants a page with "{spec.contains}"'
    return ok, expected, found, None, said



def _argument(value: Any) -> HttpSpec:
    shown = arguments.shown
    spec = arguments.mapping(value, ("path", "port", "contains", "status"), '{path: /, contains: "Hello", port: 8080}')
    path = spec.get("path", "/")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"`path` must start with /, found {shown(path)}")
    port = spec.get("port", 8080)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"`port` must be a port number (1-65535), found {shown(port)}")
    contains = spec.get("contains")
    if contains is not None and not isinstance(contains, str):
        raise ValueError(f"`contains` must be a text, found {shown(contains)}")
    status = spec.get("status", 200)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"`status` must be an HTTP status such as 200, found {shown(status)}")
    return HttpSpec(path=path, port=port, contains=contains, status=status)


def _title(spec: HttpSpec) -> str:
    where = f" at {spec.path}" if spec.path != "/" else ""
    status = f" with status {spec.status}" if spec.status != 200 else ""
    says = f' with "{spec.contains}"' if spec.contains is not None else ""
    return f"the app answers on port {spec.port}{where}{status}{says}"


def _shown(spec: HttpSpec) -> str:
    port = f" :{spec.port}" if spec.port != 8080 else ""
    return f"{spec.path}{port}"


KINDS = (CheckKind("http", _argument, _http, _title, shown=_shown, needs_http=True),)
