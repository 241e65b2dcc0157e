"""Finds the cameras: opens each candidate index with OpenCV, reads one frame and releases it at once.
Our own EmojiCam loopback device is never listed: reading it back into the pipeline would loop forever."""
from __future__ import annotations

import contextlib
import platform
import re
from dataclasses import dataclass
from pathlib import Path

import cv2

from .vcam import NAME as CAM_LABEL

NO_CAMERA_FIX = ("plug in a webcam or close the app that holds it, then pick it under Camera; "
                 "`emojicall doctor` lists the cameras it finds")
_V4L = Path("/sys/class/video4linux")


@dataclass(frozen=True)
class CameraInfo:
    index: int
    name: str
    size: tuple[int, int]

    def __str__(self):
        return f"{self.name} ({self.size[0]}x{self.size[1]})"


@contextlib.contextmanager
def quiet_opencv():
    """OpenCV logs a warning for every index it cannot open; while probing that is expected, not news."""
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)


def probe(spec: int | str, width: int | None = None, height: int | None = None) -> tuple[int, int] | None:
    """The frame size `spec` (camera index or video file) delivers, or None when it gives no frame."""
    with quiet_opencv():
        cap = cv2.VideoCapture(spec)
        try:
            if not cap.isOpened():
                return None
            if width and height and isinstance(spec, int):
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            ok, frame = cap.read()
            return (frame.shape[1], frame.shape[0]) if ok and frame is not None else None
        finally:
            cap.release()


def _linux_candidates() -> list[tuple[int, str]]:
    found = []
    for node in _V4L.glob("video*"):
        match = re.fullmatch(r"video(\d+)", node.name)
        if not match:
            continue
        try:
            name = (node / "name").read_text().strip()
        except OSError:
            name = ""
        if name != CAM_LABEL:
            found.append((int(match.group(1)), name or f"Camera {match.group(1)}"))
    return sorted(found)


def list_cameras(max_index: int = 8, width: int | None = None, height: int | None = None) -> list[CameraInfo]:
    """Cameras that deliver a frame now. A camera busy in another app delivers none and is not listed."""
    if platform.system() == "Linux":
        candidates = _linux_candidates()  # only nodes that exist: no blind probing of absent indices
    else:
        candidates = [(i, f"Camera {i}") for i in range(max_index)]
    cameras, misses = [], 0
    for index, name in candidates:
        size = probe(index, width, height)
        if size is None:
            misses += 1
            if platform.system() != "Linux" and misses >= 2:  # indices are dense there: two gaps end the list
                break
            continue
        misses = 0
        cameras.append(CameraInfo(index, name, size))
    return cameras
