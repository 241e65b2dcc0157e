"""Frame sources: a camera index, a video file, an image or a folder of images, and the bundled demo clip.

`read()` returns a BGR (or gray/BGRA, as the input has it) frame, or None at the end of a finite source.
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from pathlib import Path

import cv2
import numpy as np

from .errors import UserError
from .frames import Frame
from .paths import demo_clip
from .quiet import native_stderr_silenced, opencv_log_silenced

log = logging.getLogger(__name__)
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


class Source(ABC):
    fps: float = 30.0
    live: bool = False  # a camera: frames arrive in real time and stale ones should be dropped
    name: str = ""
    fresh: bool = False  # read() returns a new array each time that the source does not keep

    @abstractmethod
    def read(self) -> np.ndarray | None: ...

    def read_frame(self) -> Frame | None:
        """What the frame loop reads: the next frame as a record (a camera picture or a card), None at the end."""
        image = self.read()
        return None if image is None else Frame(image, own=self.fresh)

    def skip(self) -> bool:
        """Pass over the next frame; False at the end."""
        return self.read() is not None

    @property
    @abstractmethod
    def size(self) -> tuple[int, int]: ...

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _PrimedSource(Source):
    """A source that reads its first frame when opened, so that a bad input fails there, with the input's name,
    and not mid-stream; the frame is kept and handed out by the first read()."""

    _first: np.ndarray | None = None
    _size: tuple[int, int] = (0, 0)
    fresh = True  # VideoCapture.read() and imread make a new array per frame

    @abstractmethod
    def _next(self) -> np.ndarray | None: ...

    def _prime(self, first: np.ndarray) -> None:
        self._first, self._size = first, (first.shape[1], first.shape[0])

    @property
    def size(self):
        return self._size

    def read(self):
        if self._first is not None:
            frame, self._first = self._first, None
            return frame
        return self._next()


class CaptureSource(_PrimedSource):
    """cv2.VideoCapture: a camera (index) or a video file; both read the same way."""

    def __init__(self, spec: int | str | Path, width: int | None = None, height: int | None = None):
        self.live = isinstance(spec, int)
        self.name = f"camera {spec}" if self.live else str(spec)
        if not self.live and not Path(spec).is_file():
            raise UserError(f"video not found: {spec}", "check the path")
        with opencv_log_silenced():  # our one-line error below says it better than OpenCV's WARN lines
            # A file decodes on one thread: 1.45 against 1.75 ms of CPU a 720p H.264 frame with FFmpeg's pool
            # (bench_720p_closeup.mp4), and a call effect should leave the other core to the meeting app.
            self._cap = cv2.VideoCapture(spec) if self.live else \
                cv2.VideoCapture(str(spec), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
            if self.live and width and height:
                self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
                self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            first = self._cap.read()[1] if self._cap.isOpened() else None
        if first is None:
            self._cap.release()
            what, fix = ("no camera answers at that index", "run `emojicall doctor` to list cameras") if self.live \
                else ("it is a video without a single frame", "give a clip with frames in it") if _empty(spec) \
                else ("it is corrupt or in a format OpenCV cannot decode", "re-encode it as H.264 .mp4")
            raise UserError(f"cannot read {self.name}: {what}", fix)
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and 1 <= fps <= 240 else 30.0
        self._prime(first)

    def _next(self):
        ok, frame = self._cap.read()
        return frame if ok else None

    def skip(self):
        if self._first is not None:
            self._first = None
            return True
        return bool(self._cap.grab())  # demuxes and decodes, but makes no BGR picture

    def close(self):
        self._cap.release()


def _empty(path) -> bool:
    """A well-formed video with a video stream and no frame (a recording stopped at once): OpenCV cannot tell it
    from a corrupt file, FFmpeg itself can."""
    import av

    try:
        with av.open(str(path)) as container:
            return bool(container.streams.video) and next(container.decode(video=0), None) is None
    except (av.error.FFmpegError, OSError, ValueError):
        return False


class ImageSource(_PrimedSource):
    """One image, or every image of a folder in name order; unreadable files are skipped with a warning."""

    def __init__(self, path: str | Path, fps: float = 1.0):
        path = Path(path)
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTS) if path.is_dir() else [path]
        if not files:
            raise UserError(f"no images in {path}", f"expected {', '.join(sorted(IMAGE_EXTS))} files")
        self.name, self.fps, self._files = str(path), fps, iter(files)
        if not path.is_dir():  # one named file: say what is wrong with it, not "no readable image"
            first, self._files = _read_image(path), iter(())
            if first is None:
                raise UserError(f"cannot read image {path}: it is truncated, corrupt or not an 8-bit image",
                                "save it again as PNG or JPEG")
        else:
            first = self._next()
        if first is None:
            raise UserError(f"no readable image in {path}", "the files are corrupt or not images: replace them")
        self._prime(first)

    def _next(self):
        for file in self._files:
            img = _read_image(file)
            if img is not None:
                return img
            log.warning("skipping %s: truncated, corrupt or not an 8-bit image", file)
        return None


def _read_image(path: Path) -> np.ndarray | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    # libjpeg decodes a truncated JPEG as a half-gray picture (and prints to fd 2): refuse it instead.
    if data[:2] == b"\xff\xd8" and b"\xff\xd9" not in data[-4096:]:
        return None
    with native_stderr_silenced():
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None or img.ndim not in (2, 3) or img.dtype != np.uint8:
        return None
    return img


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
            raise UserError(f"image not found: {path}", "check the path")
        return ImageSource(path)
    return CaptureSource(path)


class RealtimeSource(Source):
    """A video file played as if it were a camera (`run --realtime`): frame i is due i/fps seconds after the
    first read; a frame whose successor is already due when it is asked for is skipped unread (grab only, no
    decode into a picture) and counted in `dropped`, so a slow chain drops frames as it would on a camera."""

    live = True

    def __init__(self, source: Source, clock=None):
        import time

        self._src, self._clock, self._sleep = source, clock or time.monotonic, time.sleep
        self.name, self.fps, self.fresh = source.name, source.fps, source.fresh
        self.dropped, self._index, self._t0 = 0, 0, None
        self.stamp = 0.0  # when the camera would have captured the frame read last (the clock's seconds)

    @property
    def size(self):
        return self._src.size

    def read(self):
        now = self._clock()
        if self._t0 is None:
            self._t0 = now
        due = int((now - self._t0) * self.fps)  # the frame the camera would show now
        while self._index < due:
            if not self._src.skip():
                return None
            self._index, self.dropped = self._index + 1, self.dropped + 1
        self.stamp = self._t0 + self._index / self.fps
        if self.stamp > now:
            self._sleep(self.stamp - now)
        self._index += 1
        return self._src.read()

    def close(self):
        self._src.close()
