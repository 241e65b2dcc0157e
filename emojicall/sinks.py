"""Where finished frames go: a preview window, a video file, or nowhere (the virtual camera lives in vcam.py
with the rest of what concerns it).

`send(frame)` takes a BGR frame and returns False when the user asked to stop; a frame of another size is
letterboxed into the sink's (frames.fit, the one resize policy). A sink with `paced_fps` wants frames at that
steady rate (stream.Stream keeps it).
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

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
    """A video file, written by videowriter.VideoWriter (H.264 MP4 or VP9 WebM); `path` is an
    outputs.OutputFile that `emojicall run` checked before anything opened, or a path for a new file."""

    area = "video file"

    def __init__(self, path, size: tuple[int, int], fps: float):
        from .outputs import OutputFile, check
        from .videowriter import FIX, SUFFIXES, VideoWriter

        out = path if isinstance(path, OutputFile) else \
            check(path, "--output", [], overwrite=False, suffixes=SUFFIXES)
        self.path, self.fix = out.target, FIX
        self._writer = VideoWriter(out, size, fps)
        self.size = self._writer.size

    def send(self, frame):
        self._writer.write(fit(frame, self.size))
        return True

    def close(self):
        self._writer.close()


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


def open_sink(output, size: tuple[int, int], fps: float) -> Sink:
    """A sink for `--output` other than `virtual` (vcam.VirtualCamSink): a window, nothing, or a video file
    (`output` a path or the outputs.OutputFile `emojicall run` checked)."""
    if output == "window":
        return WindowSink()
    if output == "none":
        return NullSink()
    return FileSink(output, size, fps)
