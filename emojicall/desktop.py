"""freedesktop.org conventions on Linux: "Start at login" (an autostart entry) and a launcher in the
applications menu (`emojicall desktop-entry --install`).

Autostart: $XDG_CONFIG_HOME/autostart/emojicall.desktop (~/.config when unset), per the XDG Autostart spec.
Launcher: $XDG_DATA_HOME/applications/emojicall.desktop (~/.local/share), its icon the bundled happy emoji
copied into the hicolor theme there, so the menu keeps its icon if the package moves.
Exec is the absolute path of this install's `emojicall` (a venv's bin is not on a desktop session's PATH).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from .errors import UserError
from .paths import bundled_emojis

APP_ID = "emojicall"
ICON_SIZE = 512  # the bundled PNGs are 512 x 512


def supported() -> bool:
    return sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd"))


def _xdg(var: str, default: str) -> Path:
    value = os.environ.get(var, "")
    # The spec: a relative path in these variables is invalid and is ignored.
    return Path(value) if value and os.path.isabs(value) else Path.home() / default


def autostart_path() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / "autostart" / f"{APP_ID}.desktop"


def launcher_path() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share") / "applications" / f"{APP_ID}.desktop"


def icon_path() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share") / "icons" / "hicolor" / f"{ICON_SIZE}x{ICON_SIZE}" / "apps" / f"{APP_ID}.png"


def _quote(arg: str) -> str:
    """An Exec argument per the Desktop Entry spec: reserved characters need double quotes, and inside
    them ", `, $ and \\ a backslash; then every backslash is doubled again for the string-value escaping."""
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`'):
        return arg.replace("%", "%%")
    inner = "".join("\\" + c if c in '"`$\\' else c for c in arg).replace("%", "%%")
    return f'"{inner}"'.replace("\\", "\\\\")


def exec_line() -> str:
    script = Path(sys.executable).parent / ("emojicall.exe" if os.name == "nt" else "emojicall")
    if script.exists():
        argv = [str(script), "tray"]
    elif shutil.which("emojicall"):
        argv = [str(Path(shutil.which("emojicall")).resolve()), "tray"]
    else:  # a source checkout run as `python -m emojicall`
        argv = [sys.executable, "-m", "emojicall", "tray"]
    return " ".join(_quote(a) for a in argv)


def entry_text(icon: str, autostart: bool = False) -> str:
    lines = ["[Desktop Entry]", "Type=Application", "Version=1.4", "Name=EmojiCall",
             "GenericName=Emoji webcam effect",
             "Comment=Emoji overlay for your webcam, published as the EmojiCam virtual camera",
             f"Exec={exec_line()}", f"Icon={icon}", "Terminal=false", "Categories=AudioVideo;Video;",
             "Keywords=webcam;camera;emoji;emotion;virtual camera;", "StartupNotify=false"]
    if autostart:
        lines.append("X-GNOME-Autostart-enabled=true")
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)  # a session reading autostart/ at that moment sees the old file or the new one
    except OSError as exc:
        raise UserError(f"cannot write {path} ({exc.strerror or exc}): check that folder's permissions") from None
    return path


def _remove(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise UserError(f"cannot remove {path} ({exc.strerror or exc}): remove it by hand") from None


def _entry_flags(path: Path) -> dict[str, str]:
    flags = {}
    try:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            key, sep, value = line.partition("=")
            if sep:
                flags[key.strip()] = value.strip()
    except OSError:
        pass
    return flags


def autostart_enabled() -> bool:
    """Our entry is there and not switched off (desktops that "disable" an entry write Hidden=true or
    X-GNOME-Autostart-enabled=false into it instead of removing it)."""
    path = autostart_path()
    if not path.is_file():
        return False
    flags = _entry_flags(path)
    return flags.get("Hidden", "false").lower() != "true" and \
        flags.get("X-GNOME-Autostart-enabled", "true").lower() != "false"


def set_autostart(on: bool) -> Path:
    """Writes or removes the autostart entry; returns its path. UserError (one line) when that fails."""
    if not supported():
        raise UserError("Start at login is done with a freedesktop autostart entry, which only Linux and BSD "
                        "desktops read")
    path = autostart_path()
    if on:
        return _write(path, entry_text(str(bundled_emojis() / "happy.png"), autostart=True))
    _remove(path)
    return path


def install_desktop_entry() -> list[Path]:
    icon = icon_path()
    try:
        icon.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(bundled_emojis() / "happy.png", icon)
    except OSError as exc:
        raise UserError(f"cannot write {icon} ({exc.strerror or exc}): check that folder's permissions") from None
    return [_write(launcher_path(), entry_text(APP_ID)), icon]


def uninstall_desktop_entry() -> list[Path]:
    return [p for p in (launcher_path(), icon_path()) if _remove(p)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="emojicall desktop-entry",
                                description="Add EmojiCall to the desktop's applications menu, or take it out.")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--install", action="store_true", help=f"write {launcher_path()} and its icon")
    g.add_argument("--uninstall", action="store_true", help="remove them (and nothing else)")
    args = p.parse_args(argv)
    if not supported():
        raise UserError("desktop entries are a Linux/BSD desktop convention: on Windows and macOS start "
                        "`emojicall` from a terminal or make a shortcut to it")
    if args.install:
        for path in install_desktop_entry():
            print(f"wrote {path}")
    else:
        removed = uninstall_desktop_entry()
        print("\n".join(f"removed {p}" for p in removed) or f"nothing to remove ({launcher_path()} was not there)")
    return 0
