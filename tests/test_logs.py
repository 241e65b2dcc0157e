"""-v / -q levels, the tray's rotating log file in the user log folder, and opening that folder."""
import logging
import os
import stat
import time
import sys

import pytest

from emojicall import logs


@pytest.fixture(autouse=True)
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    logs.setup(0)  # closes what the test opened
    for h in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(h)
    root.setLevel(level)


def test_verbosity_levels(capsys):
    for verbosity, shown in ((-1, ["error"]), (0, ["warning", "error"]), (1, ["info", "warning", "error"]),
                             (2, ["debug", "info", "warning", "error"])):
        logs.setup(verbosity)
        log = logging.getLogger("emojicall.test")
        for name in ("debug", "info", "warning", "error"):
            getattr(log, name)(f"{name} line")
        err = capsys.readouterr().err
        assert [ln.rsplit(" ", 2)[-2] for ln in err.splitlines()] == shown, err


def test_setup_twice_does_not_double_lines(capsys):
    logs.setup(0)
    logs.setup(0)
    logging.getLogger("emojicall.test").warning("once")
    assert capsys.readouterr().err.count("once") == 1


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG_STATE_HOME layout is Linux's")
def test_tray_log_goes_to_the_user_log_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    folder = logs.setup(0, log_file=True)
    assert folder == tmp_path / "state" / "emojicall" / "log"
    logging.getLogger("emojicall.tray").info("camera 0 opened")  # INFO reaches the file without -v
    for h in logging.getLogger().handlers:
        h.flush()
    text = (folder / logs.LOG_NAME).read_text()
    assert "INFO emojicall.tray: camera 0 opened" in text


def test_log_file_rotates(tmp_path, monkeypatch):
    monkeypatch.setattr(logs, "MAX_BYTES", 2_000)
    folder = logs.setup(0, log_file=tmp_path / "logs")
    log = logging.getLogger("emojicall.test")
    for i in range(200):
        log.warning("frame %d failed: a line of about sixty characters, repeated", i)
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["emojicall.log", "emojicall.log.1", "emojicall.log.2", "emojicall.log.3"]
    assert all((folder / n).stat().st_size <= 2_100 for n in names)


def test_a_folder_that_cannot_be_made_is_no_reason_not_to_start(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert logs.setup(0, log_file=blocker / "logs") is None
    assert "logging to stderr only" in capsys.readouterr().err
    logging.getLogger("emojicall.test").warning("still logged")
    assert "still logged" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="xdg-open is the Linux opener")
def test_open_folder_runs_xdg_open_on_the_folder(tmp_path, monkeypatch):
    bindir, seen = tmp_path / "bin", tmp_path / "seen"
    bindir.mkdir()
    opener = bindir / "xdg-open"  # a stand-in for xdg-utils' script: records what it was asked to open
    opener.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{seen}"\n')
    opener.chmod(opener.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    folder = tmp_path / "log folder"
    folder.mkdir()
    assert logs.open_folder(folder) is None
    for _ in range(100):  # Popen does not wait; the stand-in takes a few ms
        if seen.exists() and seen.read_text():
            break
        time.sleep(0.05)
    assert seen.read_text() == str(folder)


def test_open_folder_reports_instead_of_raising(tmp_path, monkeypatch):
    assert "does not exist" in logs.open_folder(tmp_path / "missing")
    if sys.platform not in ("win32", "darwin"):
        monkeypatch.setenv("PATH", str(tmp_path))  # no xdg-open anywhere
        assert "install xdg-utils" in logs.open_folder(tmp_path)
