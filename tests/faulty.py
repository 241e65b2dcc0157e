"""Test doubles for the reliability tests: a real clip played like a webcam, with scripted faults."""
from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from emojicall.errors import UserError
from emojicall.sources import Source


def model_dir() -> Path:
    """The shipped default model: fault, privacy, shutdown and resilience tests run what users run."""
    from emojicall.model_files import resolve_model_dir

    return resolve_model_dir(None)


def clip_frames(path: Path, limit: int | None = None) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while limit is None or len(frames) < limit:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


class FakeCamera(Source):
    """Plays decoded clip frames in a loop at `fps`, as a webcam would. Faults, by read number (0-based):
    `fail_reads` return None once each; from `disconnect_at` on every read fails (None, or raises when
    `raise_when_gone`). `size` delivers the frames resized (a camera that came back at another resolution)."""

    live = True

    def __init__(self, frames, fps=60.0, *, fail_reads=(), disconnect_at=None, raise_when_gone=False, size=None):
        self.frames, self.fps, self.name = frames, fps, "fake camera"
        self.fail_reads, self.disconnect_at, self.raise_when_gone = set(fail_reads), disconnect_at, raise_when_gone
        self.out_size = size
        self.reads, self.closed, self._next = 0, False, time.monotonic()

    @property
    def size(self):
        return self.out_size or (self.frames[0].shape[1], self.frames[0].shape[0])

    def read(self):
        assert not self.closed, "read after close"
        now = time.monotonic()
        if now < self._next:
            time.sleep(self._next - now)
        self._next = max(now, self._next) + 1 / self.fps
        n, self.reads = self.reads, self.reads + 1
        if self.disconnect_at is not None and n >= self.disconnect_at:
            if self.raise_when_gone:
                raise cv2.error("VIDIOC_DQBUF: No such device")
            return None
        if n in self.fail_reads:
            return None
        frame = self.frames[n % len(self.frames)]
        return cv2.resize(frame, self.out_size) if self.out_size else frame.copy()

    def close(self):
        self.closed = True


class CameraRig:
    """open_fn for ResilientSource: hands out cameras from `plan` in turn; a None entry is an open attempt
    that fails the way CaptureSource does when no camera answers."""

    def __init__(self, plan):
        self.plan, self.attempts, self.opened = list(plan), 0, []

    def open(self):
        self.attempts += 1
        item = self.plan.pop(0) if len(self.plan) > 1 else self.plan[0]
        if item is None:
            raise UserError("cannot read camera 0: no camera answers at that index")
        cam = item()
        self.opened.append(cam)
        return cam
