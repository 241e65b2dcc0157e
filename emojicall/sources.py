"""Frame sources: a camera index, a video file, an image or a folder of images, and the bundled demo clip.

`read()` returns a BGR (or gray/BGRA, as the input has it) frame, or None at the end of a finite source.
"""
from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from pathlib import Path

import cv2
import numpy as np

from .errors import UserError
from .paths import demo_clip

log = logging.getLogger(__name__)
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


class Source(ABC):
    fps: float = 30.0
    live: bool = False  # a camera: frames arrive in real time and stale ones should be dropped
    name: str = ""

    @abstractmethod
    def read(self) -> np.ndarray | None: ...

    @property
    @abstractmethod
    def size(self) -> tuple[int, int]: ...

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class CaptureSource(Source):
    """cv2.VideoCapture: a camera (index) or a video file; both read the same way."""

    def __init__(self, spec: int | str | Path, width: int | None = None, height: int | None = None):
        self.live = isinstance(spec, int)
        self.name = f"camera {spec}" if self.live else str(spec)
        if not self.live and not Path(spec).is_file():
            raise UserError(f"video not found: {spec}: check the path")
        self._cap = cv2.VideoCapture(spec if self.live else str(spec))
        if self.live and width and height:
            self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self._first = self._cap.read()[1] if self._cap.isOpened() else None
        if self._first is None:
            self._cap.release()
            what = "no camera answers at that index: run `emojicall doctor` to list cameras" if self.live \
                else "it is corrupt or in a format OpenCV cannot decode: re-encode it as H.264 .mp4"
            raise UserError(f"cannot read {self.name}: {what}")
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and 1 <= fps <= 240 else 30.0
        self._size = (self._first.shape[1], self._first.shape[0])

    @property
    def size(self):
        return self._size

    def read(self):
        if self._first is not None:
            frame, self._first = self._first, None
            return frame
        ok, frame = self._cap.read()
        return frame if ok else None

    def close(self):
        self._cap.release()


class ImageSource(Source):
    """One image, or every image of a folder in name order; unreadable files are skipped with a warning."""

    def __init__(self, path: str | Path, fps: float = 1.0):
        path = Path(path)
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTS) if path.is_dir() else [path]
        if not files:
            raise UserError(f"no images in {path}: expected {', '.join(sorted(IMAGE_EXTS))} files")
        self.name, self.fps, self._files = str(path), fps, iter(files)
        self._first = self._next()
        if self._first is None:
            raise UserError(f"no readable image in {path}: the files are corrupt or not images")
        self._size = (self._first.shape[1], self._first.shape[0])

    def _next(self):
        for file in self._files:
            img = cv2.imread(str(file), cv2.IMREAD_UNCHANGED)
            if img is not None and img.ndim in (2, 3) and img.dtype == np.uint8:
                return img
            log.warning("skipping %s: not a readable 8-bit image", file)
        return None

    @property
    def size(self):
        return self._size

    def read(self):
        if self._first is not None:
            frame, self._first = self._first, None
            return frame
        return self._next()


class LatestFrameReader(Source):
    """Reads a live source on its own thread and hands out only the newest frame, so a slow frame never
    makes the next one stale. read() blocks until a frame newer than the last one returned arrives."""

    def __init__(self, source: Source, timeout: float = 2.0):
        self.source, self.timeout = source, timeout
        self.fps, self.live, self.name = source.fps, True, source.name
        self._frame, self._seq, self._taken = None, 0, 0
        self._ended = False
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="capture", daemon=True)
        self._thread.start()

    @property
    def size(self):
        return self.source.size

    def _loop(self):
        while not self._stop.is_set():
            frame = self.source.read()
            with self._cond:
                if frame is None:
                    self._ended = True
                    self._cond.notify_all()
                    return
                self._frame, self._seq = frame, self._seq + 1
                self._cond.notify_all()

    def read(self):
        with self._cond:
            self._cond.wait_for(lambda: self._seq > self._taken or self._ended, self.timeout)
            if self._seq == self._taken:
                return None
            self._taken = self._seq
            return self._frame

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.source.close()


def open_source(spec: str | int | Path, width: int | None = None, height: int | None = None) -> Source:
    """'demo', a camera index ('0'), a video file, an image file or a folder of images."""
    text = str(spec)
    if text == "demo":
        return CaptureSource(demo_clip())
    if text.isdigit():
        return CaptureSource(int(text), width, height)
    path = Path(text)
    if path.is_dir() or path.suffix.lower() in IMAGE_EXTS:
        if not path.exists():
            raise UserError(f"image not found: {path}: check the path")
        return ImageSource(path)
    return CaptureSource(path)
