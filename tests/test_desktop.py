"""Autostart entry and applications-menu launcher, in a temporary home, checked with Debian's
desktop-file-validate (package desktop-file-utils) where it is installed."""
import configparser
import shutil
import subprocess
import sys

import pytest

from emojicall import desktop
from emojicall.errors import UserError
from emojicall.paths import bundled_emojis

pytestmark = pytest.mark.skipif(not desktop.supported(), reason="freedesktop entries are a Linux/BSD thing")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def validate(path):
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("needs desktop-file-validate (apt-get install desktop-file-utils)")
    run = subprocess.run([tool, str(path)], capture_output=True, text=True)
    assert run.returncode == 0 and not run.stdout.strip(), run.stdout + run.stderr


def entry(path):
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def unquote_exec(value):
    """Exec= back to argv, per the Desktop Entry spec: string escapes first, then the quoting rule."""
    value = value.replace("\\\\", "\\")
    argv, cur, quoted, i = [], "", False, 0
    while i < len(value):
        c = value[i]
        if quoted and c == "\\":
            cur, i = cur + value[i + 1], i + 2
            continue
        if c == '"':
            quoted = not quoted
        elif c == " " and not quoted:
            argv.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    return [*argv, cur] if cur else argv


def test_start_at_login_writes_and_removes_the_autostart_entry(home):
    path = home / ".config" / "autostart" / "emojicall.desktop"
    assert not desktop.autostart_enabled()
    assert desktop.set_autostart(True) == path and desktop.autostart_enabled()
    validate(path)
    e = entry(path)
    assert e["Type"] == "Application" and e["Name"] == "EmojiCall" and e["X-GNOME-Autostart-enabled"] == "true"
    assert unquote_exec(e["Exec"])[-1] == "tray"
    assert e["Icon"] == str(bundled_emojis() / "happy.png")
    assert desktop.set_autostart(False) == path and not path.exists() and not desktop.autostart_enabled()
    desktop.set_autostart(False)  # already off: no error


def test_autostart_honours_xdg_config_home(home, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    desktop.set_autostart(True)
    assert (tmp_path / "cfg" / "autostart" / "emojicall.desktop").is_file()
    assert not (home / ".config").exists()
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/cfg")  # invalid per the spec: ignored
    assert desktop.autostart_path() == home / ".config" / "autostart" / "emojicall.desktop"


def test_an_entry_the_desktop_switched_off_reads_as_off(home):
    path = desktop.set_autostart(True)
    path.write_text(path.read_text().replace("X-GNOME-Autostart-enabled=true", "X-GNOME-Autostart-enabled=false"))
    assert not desktop.autostart_enabled()
    path.write_text(path.read_text() + "Hidden=true\n")
    assert not desktop.autostart_enabled()


def test_desktop_entry_install_and_uninstall(home, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert desktop.main(["--install"]) == 0
    launcher = tmp_path / "data" / "applications" / "emojicall.desktop"
    icon = tmp_path / "data" / "icons" / "hicolor" / "512x512" / "apps" / "emojicall.png"
    assert f"wrote {launcher}" in capsys.readouterr().out
    validate(launcher)
    assert entry(launcher)["Icon"] == "emojicall"
    assert icon.read_bytes() == (bundled_emojis() / "happy.png").read_bytes()
    assert desktop.main(["--uninstall"]) == 0
    assert not launcher.exists() and not icon.exists()
    assert desktop.main(["--uninstall"]) == 0 and "nothing to remove" in capsys.readouterr().out


def test_exec_survives_a_venv_path_with_spaces_and_dollars(home, tmp_path, monkeypatch):
    bindir = tmp_path / "my $HOME venv" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "emojicall").write_text("#!/bin/sh\n")
    monkeypatch.setattr(sys, "executable", str(bindir / "python"))
    path = desktop.set_autostart(True)
    validate(path)
    assert unquote_exec(entry(path)["Exec"]) == [str(bindir / "emojicall"), "tray"]


def test_unwritable_autostart_folder_is_one_line(home):
    (home / ".config").mkdir()
    (home / ".config" / "autostart").write_text("a file where the folder should be")
    with pytest.raises(UserError) as err:
        desktop.set_autostart(True)
    assert "\n" not in str(err.value) and "autostart" in str(err.value)


def test_desktop_entry_needs_a_flag(home, capsys):
    with pytest.raises(SystemExit):
        desktop.main([])
    assert "--install" in capsys.readouterr().err
