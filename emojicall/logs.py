"""Logging for the command line (-v / -q) and for the tray, whose user never sees stderr: a rotating log
file in the platform's user log folder, and a way to open that folder from the menu."""
from __future__ import annotations

import logging
import logging.handlers
import os
import shutil
import subprocess
import sys
from pathlib import Path

LOG_NAME = "emojicall.log"
MAX_BYTES, BACKUPS = 1_000_000, 3  # 4 MB at most on disk; a day of warnings is a few kB
# Libraries that log at INFO on import or per call; their lines drown ours at -v, so only -vv shows them.
NOISY = ("tensorflow", "absl", "PIL", "matplotlib", "h5py", "urllib3")
_TAG = "_emojicall_handler"


def level_for(verbosity: int) -> int:
    """-q: errors only; default: warnings (a lost camera, a bad frame); -v: info; -vv: debug."""
    return {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(
        verbosity, logging.DEBUG if verbosity > 1 else logging.ERROR)


def log_folder() -> Path:
    import platformdirs

    # appauthor=False: no "emojicall/emojicall" doubling on Windows; macOS gives ~/Library/Logs/emojicall.
    return Path(platformdirs.user_log_dir("emojicall", appauthor=False))


def setup(verbosity: int = 0, log_file: bool | str | Path | None = None) -> Path | None:
    """Sets up the root logger; called again, it replaces what it set up before. `log_file`: True for the
    user log folder, or a folder. Returns the folder the log file is in, or None when there is none (a
    folder that cannot be made is reported on stderr, never a reason not to start)."""
    root = logging.getLogger()
    for h in [h for h in root.handlers if getattr(h, _TAG, False)]:
        root.removeHandler(h)
        h.close()
    level = level_for(verbosity)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(logging.Formatter("emojicall: %(name)s: %(message)s" if level <= logging.DEBUG
                                           else "emojicall: %(message)s"))
    console.setLevel(level)
    handlers = [console]
    folder = None
    if log_file:
        folder = log_folder() if log_file is True else Path(log_file)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fh = logging.handlers.RotatingFileHandler(folder / LOG_NAME, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                                      encoding="utf-8")
        except OSError as exc:
            print(f"emojicall: no log file in {folder} ({exc.strerror or exc}); logging to stderr only",
                  file=sys.stderr)
            folder = None
        else:
            fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            # The file keeps INFO even without -v: it is read after something went wrong.
            fh.setLevel(min(level, logging.INFO))
            handlers.append(fh)
    for h in handlers:
        setattr(h, _TAG, True)
        root.addHandler(h)
    root.setLevel(min(h.level for h in handlers))
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.DEBUG if verbosity > 1 else logging.WARNING)
    return folder


def open_folder(path: str | Path) -> str | None:
    """Opens `path` in the desktop's file manager without waiting for it. None when started; otherwise
    the reason, in words for a menu notification (this never raises)."""
    path = Path(path)
    if not path.is_dir():
        return f"{path} does not exist"
    try:
        if sys.platform == "win32":
            os.startfile(str(path))  # noqa: S606 - a folder we made, opened in Explorer
            return None
        opener = "open" if sys.platform == "darwin" else "xdg-open"
        if shutil.which(opener) is None:
            return (f"no {opener} to open {path} with (install xdg-utils); the log is {path / LOG_NAME}"
                    if opener == "xdg-open" else f"no {opener} command; the log is {path / LOG_NAME}")
        subprocess.Popen([opener, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
        return None
    except Exception as exc:  # noqa: BLE001 - a menu action must not take the tray down
        return f"cannot open {path} ({exc})"
