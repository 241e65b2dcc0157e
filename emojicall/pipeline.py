"""Wires the stages for one frame: detect (every Nth frame) -> track -> classify -> smooth -> composite.

Detection is the slow stage (MTCNN on LiteRT 23 ms a 1280x720 close-up frame, 31 ms a 640x480 one; BlazeFace
~10 ms; docs/detectors.md), so it runs on only every `detect_every`-th frame, and for a live source on a worker
thread of its own: the frame loop then never waits for it, and an optical-flow tracker moves the boxes on every
frame in between.

A fault in any stage for one frame is logged (rate-limited) and that frame goes out without overlay: a
video call must never freeze because of one bad frame.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from .classifier import EmotionClassifier
from .compositor import Compositor
from .detectors import Detector
from .detectors.base import as_bgr
from .face import Face
from .smoother import EmotionSmoother
from .tracker import FlowTracker

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
    detect: list = field(default_factory=list)    # detector call (sync) or result pick-up (async), seconds
    track: list = field(default_factory=list)     # flow update of all boxes
    classify: list = field(default_factory=list)  # one batched call for all faces, plus smoothing
    composite: list = field(default_factory=list)

    def add(self, *values: float) -> None:
        lists = (self.detect, self.track, self.classify, self.composite)
        for lst, v in zip(lists, values):
            lst.append(v)
        if len(self.detect) > 10_000:  # long runs: keep the recent window only
            for lst in lists:
                del lst[:5_000]


class DetectWorker:
    """Runs one detector on its own thread, one frame at a time. submit() never blocks; poll() returns the
    finished (tag, faces) once, or re-raises what the detector raised."""

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

    def submit(self, frame: np.ndarray, tag) -> None:
        with self._cond:
            self._job, self._busy = (frame, tag), True
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
                (frame, tag), self._job = self._job, None
            try:
                result = (tag, self.detector.detect(frame))
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


class Pipeline:
    def __init__(self, detector: Detector, classifier: EmotionClassifier, compositor: Compositor, *,
                 detect_every: int = 5, overlay: bool = True, smooth: bool = True, live: bool = False):
        self.detector, self.classifier, self.compositor = detector, classifier, compositor
        self.detect_every, self.overlay = max(1, detect_every), overlay
        # live (a camera): detection on a thread of its own; off, output is the same on every run.
        self.async_detect = live
        self.tracker = FlowTracker()
        self.smoother = EmotionSmoother() if smooth else None
        self.faults = RateLimitedLog()
        self.times = StageTimes()
        self._frame_no = 0
        self._worker: DetectWorker | None = None
        self._submitted_at = -10**9
        self._closed = False
        self._frame_crops_for(detector)

    def set_live(self, live: bool) -> None:
        """The source is a camera (detect on the worker thread) or a file (detect in line, reproducibly)."""
        self.async_detect = bool(live)

    def reset(self) -> None:
        """Forget every face: a new clip or a new camera starts with no tracks, no smoothed history, no fades."""
        self.tracker.reset()
        if self.smoother is not None:
            self.smoother.reset()
        self.compositor.reset()
        self._frame_no, self._submitted_at = 0, -10**9

    def _frame_crops_for(self, detector: Detector) -> None:
        """Each detector puts its box elsewhere on the face; the classifier crops as calibrated for this one."""
        use = getattr(self.classifier, "use_detector", None)
        if use is not None:
            use(detector.name)

    def set_detector(self, detector: Detector) -> None:
        """Swap detectors between frames (the tray's radio items); tracks restart with the new boxes."""
        old, self.detector = self.detector, detector
        self._frame_crops_for(detector)
        if self._worker is not None:  # don't wait for a slow detection in hand: the worker closes `old` after it
            self._worker.retire(close_detector=old is not detector)
            self._worker = None
        elif old is not detector:
            old.close()
        self._frame_no = 0
        self._submitted_at = -10**9
        self.tracker.reset()

    def process(self, frame: np.ndarray, t: float | None = None) -> tuple[np.ndarray, list[Face]]:
        """The frame decorated, and its faces. `t` (seconds) times the compositor's fades and filters: a
        camera's clock, or frame number / fps for a file (the same file then always gives the same output)."""
        frame = as_bgr(frame)
        if not self.overlay:
            return frame, []
        stage = "detection"
        try:
            t0 = time.perf_counter()
            gray = self.tracker.prepare(frame)
            det = self._detect(frame, gray)
            t1 = time.perf_counter()
            stage = "tracking"
            self.tracker.predict(gray)
            if det is not None:
                self.tracker.update(*det)
            faces = self.tracker.faces()
            self._frame_no += 1
            t2 = time.perf_counter()
            stage = "classification"
            if faces:
                self.classifier.classify(frame, faces)
                if self.smoother is not None:
                    self.smoother.update(faces, self.tracker.active_ids)
            t3 = time.perf_counter()
            stage = "compositing"
            out = self.compositor.draw(frame.copy(), faces, t)
            t4 = time.perf_counter()
        except Exception as exc:  # noqa: BLE001 - any stage fault must not stop the stream
            self.faults(stage, exc)
            return frame, []
        self.times.add(t1 - t0, t2 - t1, t3 - t2, t4 - t3)
        return out, faces

    def _detect(self, frame: np.ndarray, gray: np.ndarray):
        """(detections, gray of the frame they were made on) when a detection is ready for this frame."""
        due = self._frame_no - self._submitted_at >= self.detect_every
        if not self.async_detect:
            if self._worker is not None:  # async was switched off: one detector must not run on two threads
                self._worker.retire(close_detector=False, wait=True)
                self._worker = None
            if not due:
                return None
            self._submitted_at = self._frame_no
            return self.detector.detect(frame), None
        if self._worker is None:
            self._worker = DetectWorker(self.detector)
        result = self._worker.poll()
        if not self._worker.busy and (due or self._frame_no == 0):
            # A copy: the caller may draw into or reuse its frame while the worker still reads this one.
            self._worker.submit(frame.copy(), gray)
            self._submitted_at = self._frame_no
        return None if result is None else (result[1], result[0])

    def wait_for_detection(self, timeout: float = 10.0) -> bool:
        """Block until the detection in flight (live mode) is done: tests that play a file as a camera use it so
        that what they assert does not depend on how busy the machine is."""
        return self._worker is None or self._worker.wait(timeout)

    def close(self) -> None:
        """Release the detector (after the detection in hand, if any); a second call does nothing."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.retire(close_detector=True, wait=True)
        elif not self._closed:
            self.detector.close()
        self._closed = True
