"""Where the detector looks, and on which thread.

While the tracks follow their faces steadily, the pipeline asks the detector to look only around them: a square
of twice the face's side, scaled so the face is REGION_FACE px. MTCNN then runs on a 192 px image instead of
the 640 px copy of the whole frame (the full frame is still searched now and then, for new faces), and the
boxes are still the detector's own, the ones the classifier's crop is calibrated for.
"""
from __future__ import annotations

import threading
from typing import NamedTuple

import cv2
import numpy as np

from .detectors import Detector
from .face import Face, iou

REGION_FACE = 96  # px a face spans in a region given to the detector: MTCNN finds faces from 40 px
REGION = 2 * REGION_FACE


class Region(NamedTuple):
    """An image for the detector and where it sits in the frame: frame x = x0 + image x / scale."""
    image: np.ndarray
    x0: int
    y0: int
    scale: float


def whole(frame: np.ndarray, max_width: int | None = None, copy: bool = False) -> list[Region]:
    """The whole frame, no wider than `max_width` (the detector's own limit: it would shrink it the same way):
    the shrunk copy is what a worker thread holds, 0.7 MB instead of a 6 MB copy of a 1080p frame."""
    scale = min(1.0, max_width / frame.shape[1]) if max_width else 1.0
    if scale < 1.0:
        return [Region(cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), 0, 0, scale)]
    return [Region(frame.copy() if copy else frame, 0, 0, 1.0)]


def regions_around(frame: np.ndarray, boxes) -> list[Region]:
    """For each box, the square of twice its side around it, as a REGION x REGION image (the face REGION_FACE
    px; black beyond the frame's edge). One size for every region: MTCNN keeps a network per image size, and
    regions cut to the frame or scaled by the face's own size made it keep one more whenever a face moved."""
    out = []
    for x, y, bw, bh in boxes:
        side = max(bw, bh, 4.0)
        x0, y0 = int(round(x + bw / 2 - side)), int(round(y + bh / 2 - side))
        n = int(round(2 * side))
        m = 1 << max(0, (n // REGION).bit_length() - 1)  # the largest power of 2 not above n / REGION
        # Halved log2(m) times (a 2x2 mean: OpenCV's fast path), with the square's side and the frame edges it
        # crosses at multiples of m, then INTER_AREA by the factor under 2 that is left: a 440 px face's region
        # in 1.1 ms instead of 3.4 (INTER_AREA by a fraction, after black borders added at full size). A linear
        # last step took 0.5 ms but cost 0.3 points of real-video frame share over 10 phases.
        n, x0, y0 = -(-n // m) * m, x0 - (x0 % m if x0 < 0 else 0), y0 - (y0 % m if y0 < 0 else 0)
        roi = _reduced_cut(frame, x0, y0, n, m)
        if roi is None:
            continue
        interp = cv2.INTER_AREA if roi.shape[0] > REGION else cv2.INTER_LINEAR
        out.append(Region(cv2.resize(roi, (REGION, REGION), interpolation=interp), x0, y0, REGION / n))
    return out


def _reduced_cut(frame: np.ndarray, x0: int, y0: int, n: int, m: int) -> np.ndarray | None:
    """The n x n square at (x0, y0) reduced m times (n // m px; m a power of 2), black where it leaves the frame;
    None when it misses the frame. x0, y0 are multiples of m where negative."""
    h, w = frame.shape[:2]
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = sx0 + (min(w, x0 + n) - sx0) // m * m, sy0 + (min(h, y0 + n) - sy0) // m * m
    if sx1 - sx0 < 8 or sy1 - sy0 < 8:
        return None
    roi = frame[sy0:sy1, sx0:sx1]
    for _ in range(m.bit_length() - 1):  # the sides are multiples of m
        roi = cv2.resize(roi, (roi.shape[1] // 2, roi.shape[0] // 2), interpolation=cv2.INTER_AREA)
    if roi.shape[:2] == (n // m, n // m):
        return roi
    out = np.zeros((n // m, n // m) + frame.shape[2:], frame.dtype)
    top, left = (sy0 - y0) // m, (sx0 - x0) // m
    out[top:top + roi.shape[0], left:left + roi.shape[1]] = roi
    return out


def find_faces(detector: Detector, regions: list[Region]) -> list[Face]:
    """The detector's faces in every region, in frame pixels; a face found in two overlapping regions once."""
    found = []
    for r in regions:
        for f in detector.detect(r.image):
            if r.scale != 1.0 or r.x0 or r.y0:
                x, y, w, h = f.box
                f.box = (int(round(r.x0 + x / r.scale)), int(round(r.y0 + y / r.scale)),
                         int(round(w / r.scale)), int(round(h / r.scale)))
                f.landmarks = {k: (int(round(r.x0 + px / r.scale)), int(round(r.y0 + py / r.scale)))
                               for k, (px, py) in f.landmarks.items()}
            found.append(f)
    if len(regions) < 2:
        return found
    kept: list[Face] = []
    for f in sorted(found, key=lambda f: -f.score):
        if all(iou(f.box, k.box) < 0.5 for k in kept):
            kept.append(f)
    return kept


class DetectWorker:
    """Runs one detector on its own thread, one job (find_faces' regions) at a time. submit() never blocks;
    poll() returns the finished (tag, faces) once, or re-raises what the detector raised."""

    def __init__(self, detector: Detector):
        self.detector = detector
        self._cond = threading.Condition()
        self._job = self._result = None
        self._busy = self._retired = self._close_detector = False
        self._thread = threading.Thread(target=self._loop, name="detect", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        return self._busy

    def submit(self, regions: list[Region], tag) -> None:
        with self._cond:
            self._job, self._busy = (regions, tag), True
            self._cond.notify()

    def poll(self):
        with self._cond:
            result, self._result = self._result, None
        if result is not None and isinstance(result[1], BaseException):
            raise result[1]
        return result

    def wait(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: not self._busy, timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._job is not None or self._retired)
                if self._job is None:
                    break
                (regions, tag), self._job = self._job, None
            try:
                result = (tag, find_faces(self.detector, regions))
            except Exception as exc:  # noqa: BLE001 - handed to the frame loop, which isolates it
                result = (tag, exc)
            with self._cond:
                self._result, self._busy = result, False
                self._cond.notify_all()
        if self._close_detector:
            self.detector.close()

    def retire(self, close_detector: bool, wait: bool = False) -> None:
        """Stop after the frame in hand (its result is dropped); closes the detector then, if asked."""
        self._close_detector = close_detector
        with self._cond:
            self._retired, self._job = True, None
            self._cond.notify()
        if wait:
            self._thread.join(timeout=10)
