"""Build inputs the user may not read, and ssh:// engines without paramiko: one clear line, exit 1 or 2.

Tests run as root, which reads everything: the real-permission tests run the tutor with the
capabilities that let root ignore file modes dropped (setpriv), on files owned by nobody.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tutor.engine import client
from tutor.engine.context import ContextError, context_files, dockerignore_patterns, pack, resolve

ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534
DOCKERFILE = "FROM alpine:latest\nCOPY . /x\n"


def _context(tmp_path: Path) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    return ctx


def _refuse(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    """Opening ``target`` raises PermissionError, as for a user who may not read it."""
    real_open = Path.open

    def guarded(self: Path, *args, **kwargs):
        if self == target:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded)


def test_an_unreadable_dockerfile_is_a_context_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _context(tmp_path)
    _refuse(monkeypatch, ctx / "Dockerfile")
    with pytest.raises(ContextError, match=rf"^Cannot read {ctx / 'Dockerfile'}: Permission denied\.$"):
        resolve(ctx, None)


def test_an_unreadable_dockerignore_is_a_context_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _context(tmp_path)
    (ctx / ".dockerignore").write_text("*.log\n")
    _refuse(monkeypatch, ctx / ".dockerignore")
    with pytest.raises(ContextError, match=r"\.dockerignore: Permission denied"):
        resolve(ctx, None)
    with pytest.raises(ContextError, match=r"\.dockerignore: Permission denied"):
        dockerignore_patterns(ctx)
    with pytest.raises(ContextError, match=r"\.dockerignore: Permission denied"):
        context_files(ctx)


# -- as a user without the right to read: the real command ------------------------------------


def _as_user(*args: str, code: str = "from tutor.cli import main; raise SystemExit(main())") -> subprocess.CompletedProcess[str]:
    """Python (the tutor's CLI by default) as root without the right to read others' files."""
    setpriv = shutil.which("setpriv")
    if setpriv is None or os.geteuid() != 0:
        pytest.fail("these tests need root and setpriv (util-linux) to run the tutor without the right to read")
    cmd = [setpriv, "--bounding-set", "-dac_override,-dac_read_search", sys.executable, "-c", code, *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)


def _nobodys(path: Path, mode: int) -> None:
    os.chown(path, NOBODY, NOBODY)
    path.chmod(mode)


@pytest.mark.parametrize("what", ["Dockerfile", ".dockerignore", "outside"])
def test_tutor_build_says_which_file_it_could_not_read_and_exits_1(tmp_path: Path, what: str) -> None:
    tmp_path.chmod(0o755)
    ctx = _context(tmp_path)
    args = ["build", str(ctx)]
    if what == ".dockerignore":
        (ctx / ".dockerignore").write_text("*.log\n")
        target = ctx / ".dockerignore"
    elif what == "outside":
        target = tmp_path / "Other.dockerfile"
        target.write_text(DOCKERFILE)
        args += ["-f", str(target)]
    else:
        target = ctx / "Dockerfile"
    _nobodys(target, 0o600)
    result = _as_user(*args)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"Cannot read {target}: Permission denied." in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_packing_names_an_unreadable_folder_of_the_context(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    ctx = _context(tmp_path)
    (ctx / "secret").mkdir()
    _nobodys(ctx / "secret", 0o700)
    code = (
        "import sys\n"
        "from tutor.engine.context import ContextError, pack, resolve\n"
        "ctx, df = resolve(sys.argv[1], None)\n"
        "try:\n    pack(ctx, df)\nexcept ContextError as exc:\n    print(exc)\n"
    )
    result = _as_user(str(ctx), code=code)
    assert result.stdout.strip() == f"Cannot read {ctx / 'secret'}: Permission denied.", result.stdout + result.stderr


def test_lessons_check_reports_an_unreadable_lesson_with_its_path(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    lesson = tmp_path / "01-a" / "lesson.md"
    lesson.parent.mkdir()
    lesson.write_text("---\nid: a\ntitle: T\norder: 1\n---\nText\n")
    _nobodys(lesson, 0o600)
    result = _as_user("lessons", "check", str(tmp_path))
    assert result.returncode == 1
    assert f"{lesson}:1: cannot read the file: Permission denied" in result.stdout


# -- ssh:// engines without paramiko -------------------------------------------------------------


def test_ssh_without_paramiko_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = client.importlib.util.find_spec
    monkeypatch.setattr(client.importlib.util, "find_spec", lambda name, *a: None if name == "paramiko" else real(name, *a))
    sdk_error = Exception("Install paramiko package to enable ssh:// support name 'SSHHTTPAdapter' is not defined")
    problem = client.diagnose("ssh://me@host", sdk_error)
    assert problem.kind == "ssh-support"
    assert problem.reason == "Cannot reach ssh://me@host: ssh:// engines need the paramiko package, which is not installed."
    assert "pip install paramiko" in problem.fix and "docker[ssh]" in problem.fix
    assert "SSHHTTPAdapter" not in problem.reason + problem.fix
