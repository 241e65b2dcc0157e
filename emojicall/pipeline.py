"""Wires the stages for one frame: detect -> track -> classify -> smooth -> composite.

A fault in any stage for one frame is logged (rate-limited) and that frame goes out without overlay: a
video call must never freeze because of one bad frame.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from .classifier import EmotionClassifier
from .compositor import Compositor
from .detectors import Detector
from .detectors.base import as_bgr
from .face import Face
from .smoother import EmotionSmoother
from .tracker import IoUTracker

log = logging.getLogger(__name__)


class RateLimitedLog:
    """Logs the first fault of each kind, then at most one line per `every` seconds."""

    def __init__(self, every: float = 10.0):
        self.every, self._last, self.count = every, {}, 0

    def __call__(self, stage: str, exc: BaseException) -> None:
        self.count += 1
        now, key = time.monotonic(), (stage, type(exc).__name__)
        if now - self._last.get(key, -1e9) >= self.every:
            self._last[key] = now
            log.warning("%s failed on a frame (%s: %s); sending it without overlay", stage, type(exc).__name__, exc)


@dataclass
class StageTimes:
    detect: list = field(default_factory=list)
    classify: list = field(default_factory=list)
    composite: list = field(default_factory=list)


class Pipeline:
    def __init__(self, detector: Detector, classifier: EmotionClassifier, compositor: Compositor, *,
                 detect_every: int = 1, overlay: bool = True, mirror: bool = False, smooth: bool = True):
        self.detector, self.classifier, self.compositor = detector, classifier, compositor
        self.detect_every, self.overlay, self.mirror = max(1, detect_every), overlay, mirror
        self.tracker = IoUTracker()
        self.smoother = EmotionSmoother() if smooth else None
        self.faults = RateLimitedLog()
        self.times = StageTimes()
        self._frame_no, self._faces = 0, []

    def set_detector(self, detector: Detector) -> None:
        """Swap detectors between frames (the tray's radio items); tracks restart with the new boxes."""
        old, self.detector = self.detector, detector
        self._frame_no, self._faces = 0, []
        self.tracker.reset()
        if old is not detector:
            old.close()

    def process(self, frame: np.ndarray) -> tuple[np.ndarray, list[Face]]:
        frame = as_bgr(frame)
        if self.mirror:
            frame = cv2.flip(frame, 1)
        if not self.overlay:
            return frame, []
        stage = "detection"
        try:
            t0 = time.perf_counter()
            if self._frame_no % self.detect_every == 0:
                faces = self.tracker.update(self.detector.detect(frame))
            else:  # between detections the last boxes stand; a fresh classification still runs
                faces = [Face(box=f.box, score=f.score, landmarks=f.landmarks, track_id=f.track_id)
                         for f in self._faces]
            self._frame_no += 1
            t1 = time.perf_counter()
            stage = "classification"
            if faces:
                self.classifier.classify(frame, faces)
                if self.smoother is not None:
                    self.smoother.update(faces, self.tracker.active_ids)
            t2 = time.perf_counter()
            stage = "compositing"
            out = self.compositor.draw(frame.copy(), faces)
            t3 = time.perf_counter()
        except Exception as exc:  # noqa: BLE001 - any stage fault must not stop the stream
            self.faults(stage, exc)
            self._faces = []
            return frame, []
        self._faces = faces
        self.times.detect.append(t1 - t0)
        self.times.classify.append(t2 - t1)
        self.times.composite.append(t3 - t2)
        if len(self.times.detect) > 10_000:  # long runs: keep the recent window only
            for lst in (self.times.detect, self.times.classify, self.times.composite):
                del lst[:5_000]
        return out, faces

    def close(self) -> None:
        self.detector.close()
