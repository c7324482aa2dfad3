"""The kiosk config file, the hashed instructor PIN, and what a seat's config selects."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tutor.course.loader import load_course
from tutor.workshop import config as cfg
from tutor.workshop.config import (
    ConfigError,
    KioskConfig,
    apply_lessons,
    hash_pin,
    load_config,
    pin_hash_problem,
    unknown_lessons,
    verify_pin,
)

EXAMPLE = ROOT / "docs" / "kiosk-example.toml"
UI_COURSE = ROOT / "tests" / "fixtures" / "courses" / "ui"


@pytest.fixture(scope="module")
def a_hash() -> str:
    return hash_pin("7391")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def minimal(a_hash: str, extra: str = "") -> str:
    return f'seat = "room-a-01"\npin_hash = "{a_hash}"\nexport_dir = "exports"\n{extra}'


# -- the file ------------------------------------------------------------------------------------------


def test_the_shipped_example_loads_with_its_defaults():
    config = load_config(EXAMPLE)
    assert config.seat == "room-a-01"
    assert config.lessons is None  # "all"
    assert config.idle_timeout == 20 * 60
    assert config.port_range == (18100, 18199) and config.ports == range(18100, 18200)
    assert config.engine is None and config.course is None
    assert config.builder == "auto"  # what `docker build` uses on the seat's engine
    assert config.export_dir == EXAMPLE.parent / "exports"  # relative to the file, not the working folder
    assert config.source == EXAMPLE
    assert verify_pin("2468", config.pin_hash)  # the guide's example PIN (preflight refuses it)


def test_every_setting_is_read(tmp_path, a_hash):
    path = write(
        tmp_path,
        minimal(
            a_hash,
            'lessons = ["layers", "meet-the-app"]\nidle_timeout_minutes = 1.5\nport_range = [20000, 20009]\n'
            'engine = "tcp://127.0.0.1:2375"\ncourse = "~/course"\nbuilder = "classic"\n',
        ),
    )
    config = load_config(path)
    assert config.lessons == ("layers", "meet-the-app")
    assert config.idle_timeout == 90
    assert config.port_range == (20000, 20009)
    assert config.engine == "tcp://127.0.0.1:2375"
    assert config.course == Path("~/course").expanduser()
    assert config.builder == "classic"
    assert config.with_engine("unix:///other.sock").engine == "unix:///other.sock"
    assert config.with_engine(None) is config


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("idle_timeout = 5\n", "unknown setting 'idle_timeout' (did you mean 'idle_timeout_minutes'?)"),
        ("wifi = 1\n", "known settings: seat, pin_hash"),
        ("port_range = [18199, 18100]\n", "port_range 18199-18100 should lie within 1024-65535, lowest first"),
        ("port_range = [80, 90]\n", "should lie within 1024-65535"),
        ("port_range = 18100\n", "port_range should be two port numbers"),
        ("port_range = [true, 18100]\n", "port_range should be two port numbers"),
        ('lessons = "some"\n', 'lessons should be "all" or a list of lesson ids'),
        ('lessons = ["a", "a"]\n', "lessons names a more than once"),
        ("idle_timeout_minutes = -1\n", "idle_timeout_minutes should be a number of minutes (0: never)"),
        ('engine = "10.0.0.5:2375"\n', "engine should be an engine URL"),
        ('builder = "buildkt"\n', "builder should be one of auto, buildkit, classic, found 'buildkt' (did you mean 'buildkit'?)"),
    ],
)
def test_bad_settings_say_what_and_how(tmp_path, a_hash, extra, expected):
    path = write(tmp_path, minimal(a_hash, extra))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert expected in str(err.value)
    assert str(path) in str(err.value)


def test_missing_and_unusable_settings(tmp_path, a_hash):
    with pytest.raises(ConfigError, match="pin_hash is missing: run `tutor kiosk hash-pin`"):
        load_config(write(tmp_path, 'seat = "a"\nexport_dir = "x"\n'))
    with pytest.raises(ConfigError, match="pin_hash cannot be used: it is not a hash made by `tutor kiosk hash-pin`"):
        load_config(write(tmp_path, 'seat = "a"\nexport_dir = "x"\npin_hash = "2468"\n'))
    with pytest.raises(ConfigError, match="export_dir is missing"):
        load_config(write(tmp_path, f'seat = "a"\npin_hash = "{a_hash}"\n'))
    with pytest.raises(ConfigError, match="seat should be a name of lowercase letters"):
        load_config(write(tmp_path, minimal(a_hash).replace("room-a-01", "Room A")))


def test_unreadable_files_get_a_clear_message(tmp_path):
    with pytest.raises(ConfigError, match="no kiosk config at .*copy docs/kiosk-example.toml"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="is a folder, not a kiosk config file"):
        load_config(tmp_path)
    with pytest.raises(ConfigError, match=r"not valid TOML: .*line 1"):
        load_config(write(tmp_path, 'seat = "unclosed\n'))
    bad = tmp_path / "binary.toml"
    bad.write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(ConfigError, match="not a text file"):
        load_config(bad)


# -- the PIN -------------------------------------------------------------------------------------------


def test_a_pin_is_stored_salted_and_checked_in_constant_form(a_hash):
    assert a_hash.startswith("scrypt$16384$8$1$")
    assert "7391" not in a_hash
    assert hash_pin("7391") != a_hash  # a fresh salt every time
    assert verify_pin("7391", a_hash)
    assert not verify_pin("7392", a_hash)
    assert not verify_pin("", a_hash)
    assert pin_hash_problem(a_hash) is None


def test_pbkdf2_where_there_is_no_scrypt(monkeypatch):
    monkeypatch.setattr(cfg, "_has_scrypt", lambda: False)
    stored = hash_pin("secret-1")
    assert stored.startswith(f"pbkdf2_sha256${cfg.PBKDF2_ITERATIONS}$")
    assert verify_pin("secret-1", stored) and not verify_pin("secret-2", stored)


def test_damaged_hashes_never_match(a_hash):
    damaged = a_hash[:-6] + "!!!!!="
    assert "damaged" in pin_hash_problem(damaged)
    assert not verify_pin("7391", damaged)
    assert "out of range" in pin_hash_problem("scrypt$1000$8$1$AAAA$AAAA")  # N must be a power of two
    assert not verify_pin("7391", "plain-text")


@pytest.mark.parametrize(("pin", "problem"), [("12", "at least 4"), ("12 34", "spaces"), ("9" * 65, "at most 64")])
def test_weak_or_odd_pins_are_refused(pin, problem):
    with pytest.raises(ValueError, match=problem):
        hash_pin(pin)


def test_hash_pin_command_prints_a_line_for_the_config(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "tutor", "kiosk", "hash-pin"], input="5802\n", capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith('pin_hash = "scrypt$')
    config = load_config(write(tmp_path, f'seat = "s"\nexport_dir = "e"\n{line}\n'))
    assert verify_pin("5802", config.pin_hash)
    short = subprocess.run(
        [sys.executable, "-m", "tutor", "kiosk", "hash-pin"], input="58\n", capture_output=True, text=True, cwd=ROOT
    )
    assert short.returncode == 2 and "at least 4 characters" in short.stderr and short.stdout == ""


def test_kiosk_command_reports_a_bad_config_without_a_traceback(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "tutor", "kiosk", "check", "--config", str(tmp_path / "nope.toml")],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert done.returncode == 2
    assert "no kiosk config at" in done.stderr and "Traceback" not in done.stderr


# -- what the config selects -------------------------------------------------------------------------------


def test_lessons_are_selected_in_the_config_order():
    course = load_course(UI_COURSE)
    assert [lesson.id for lesson in course.lessons] == ["first-build", "reading"]
    picked = apply_lessons(course, ("reading", "first-build", "nope"))
    assert [lesson.id for lesson in picked.lessons] == ["reading", "first-build"]
    assert apply_lessons(course, None) is course
    assert unknown_lessons(course, ("reading", "nope")) == ["nope"]


def test_workshop_modules_never_import_textual():
    code = (
        "import sys\n"
        "import tutor.workshop.config, tutor.workshop.preflight, tutor.workshop.reset\n"
        "import tutor.workshop.bundle, tutor.workshop.safety, tutor.workshop.browser_seat\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'tutor.ui')))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_config_dataclass_is_frozen(tmp_path, a_hash):
    config = KioskConfig(seat="s", pin_hash=a_hash, export_dir=tmp_path)
    with pytest.raises(AttributeError):
        config.seat = "other"  # type: ignore[misc]
