"""Where finished frames go: a preview window, a video file, or nowhere (the virtual camera lives in vcam.py
with the rest of what concerns it).

`send(frame)` takes a BGR frame and returns False when the user asked to stop; a frame of another size is
letterboxed into the sink's (frames.fit, the one resize policy). A sink with `paced_fps` wants frames at that
steady rate (stream.Stream keeps it).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import cv2
import numpy as np

from .errors import UserError
from .frames import fit

class Sink(ABC):
    area = "output"   # how problems with it are named
    fix = ""          # what to do when sending to it fails
    paced_fps: float | None = None

    @abstractmethod
    def send(self, frame: np.ndarray) -> bool: ...

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class NullSink(Sink):
    def send(self, frame):
        return True


class FileSink(Sink):
    area, fix = "video file", "free some disk space or write to another folder"

    def __init__(self, path: str | Path, size: tuple[int, int], fps: float):
        self.path, self.size = Path(path), size
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot write video {self.path} ({exc.strerror})", "choose another folder") from None
        fourcc = cv2.VideoWriter_fourcc(*("mp4v" if self.path.suffix.lower() in (".mp4", ".m4v", ".mov") else "MJPG"))
        self._writer = cv2.VideoWriter(str(self.path), fourcc, fps, size)
        if not self._writer.isOpened():
            raise UserError(f"cannot write video {self.path}", "use a writable folder and a .mp4 or .avi name")

    def send(self, frame):
        self._writer.write(fit(frame, self.size))
        return True

    def close(self):
        self._writer.release()


class WindowSink(Sink):
    """A preview window (in a process of its own, see preview.py); send() is False once the user closed it."""

    area = "preview"

    def __init__(self, title: str = "EmojiCall preview"):
        from .preview import PreviewWindow

        self.window = PreviewWindow(title)

    def send(self, frame):
        return self.window.send(frame)

    def close(self):
        self.window.close()


def open_sink(output: str, size: tuple[int, int], fps: float) -> Sink:
    """A sink for `--output` other than `virtual` (vcam.VirtualCamSink)."""
    if output == "window":
        return WindowSink()
    if output == "none":
        return NullSink()
    return FileSink(output, size, fps)
