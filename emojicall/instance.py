"""One EmojiCall at a time holds the camera and the virtual camera: a lock file in the user's runtime folder.
The lock is the OS's (flock / msvcrt), so it is released when the process ends, however it ends."""
from __future__ import annotations

import os
from pathlib import Path

from .errors import UserError


def lock_path() -> Path:
    import warnings

    import platformdirs

    with warnings.catch_warnings():  # no XDG_RUNTIME_DIR (a bare X session): its /tmp fallback is fine for a lock
        warnings.simplefilter("ignore")
        return Path(platformdirs.user_runtime_dir("emojicall", appauthor=False)) / "emojicall.lock"


class InstanceLock:
    def __init__(self, path: Path | None = None):
        self.path = path or lock_path()
        self._file = None

    def acquire(self) -> "InstanceLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = open(self.path, "a+")
        f.seek(0)  # msvcrt locks from the current position
        try:
            if os.name == "nt":
                import msvcrt

                msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.seek(0)
            pid = f.read().strip() or "?"
            f.close()
            raise UserError(f"EmojiCall is already running (process {pid}) and holds the camera and EmojiCam",
                            "quit it from its tray icon (or stop that `emojicall run`) first") from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        self._file = f
        return self

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the lock
            self._file = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
