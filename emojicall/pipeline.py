"""Wires the stages for one frame: detect (now and then) -> track -> classify (when the face changed) -> smooth
-> composite.

Detection is the slow stage (MTCNN on LiteRT 23 ms a 1280x720 close-up frame, 31 ms a 640x480 one; BlazeFace
~10 ms; docs/detectors.md), so it runs only now and then, and for a live source on a worker thread of its own:
the frame loop then never waits for it, and an optical-flow tracker moves the boxes on every frame in between,
so the emoji moves with the face on every frame.

A fault in any stage for one frame is logged (rate-limited) and that frame goes out without overlay: a
video call must never freeze because of one bad frame.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from .classifier import EmotionClassifier
from .compositor import Compositor
from .detectors import Detector
from .detection import DetectWorker, Region, find_faces, regions_around, whole
from .detectors.base import as_bgr
from .face import Face
from .smoother import EmotionSmoother
from .tracker import FlowTracker

log = logging.getLogger(__name__)
# Chosen on the 720p close-up clip (CPU) and bench/real_faces.py's clips over 5 detection phases (accuracy):
# docs/realtime.md.
CALM_EVERY = 2       # detection interval multiplier while every track follows steadily
SEARCH_EVERY = 6     # even then the whole frame is searched every SEARCH_EVERY x detect_every frames (new faces)
# Every face is classified on every frame: keeping an unchanged face's score for a frame saved ~0.7 ms a frame at
# 720p but cost 0.5-0.7 points of real-video frame_share over 10 starting phases and more emoji switches (a
# kept score counts as that frame's in the smoother's median), past issue 23's 0.5-point guard (docs/realtime.md).


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


class Pipeline:
    """`live` (the Stream sets it for cameras): detection on a worker thread; off, the same input always gives
    the same output. The detector searches the whole frame every `detect_every`-th frame while a track is new,
    missed or short of flow points; while all tracks follow steadily it looks only around them, every
    `calm_every` x `detect_every` frames, and at the whole frame every `search_every` x `detect_every`; at once
    when a track loses its flow points. The tracker moves every box on every frame, so the emoji follows the
    face whatever detection skips."""

    def __init__(self, detector: Detector, classifier: EmotionClassifier, compositor: Compositor, *,
                 detect_every: int = 5, overlay: bool = True, smooth: bool = True, live: bool = False):
        self.detector, self.classifier, self.compositor = detector, classifier, compositor
        self.detect_every, self.overlay, self.live = max(1, detect_every), overlay, live
        self.calm_every, self.search_every = CALM_EVERY, SEARCH_EVERY
        self.tracker = FlowTracker()
        self.smoother = EmotionSmoother() if smooth else None
        self.faults = RateLimitedLog()
        self.times = StageTimes()
        self._worker: DetectWorker | None = None
        self._closed = False
        self.reset()
        self._frame_crops_for(detector)

    def reset(self) -> None:
        """Start over, as for a new clip: no tracks, scores, smoothing or drawn emojis, frame count 0."""
        self._retire_worker(wait=True)
        self._frame_no = 0
        self._submitted_at = self._searched_at = -10**9
        self.tracker.reset(new_ids=True)
        if self.smoother is not None:
            self.smoother.reset()
        self.compositor.reset()

    def set_live(self, live: bool) -> None:
        """Detection on a worker thread (a camera) or in the frame loop (a file); switchable between frames."""
        if self.live and not live:  # one detector must not run on two threads
            self._retire_worker(wait=True)
        self.live = live

    def _retire_worker(self, wait: bool, close_detector: bool = False) -> None:
        if self._worker is not None:
            self._worker.retire(close_detector=close_detector, wait=wait)
            self._worker = None

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
            self._retire_worker(wait=False, close_detector=old is not detector)
        elif old is not detector:
            old.close()
        self._frame_no = 0
        self._submitted_at = self._searched_at = -10**9
        self.tracker.reset()

    def process(self, frame: np.ndarray, t: float | None = None, *,
                own: bool = False) -> tuple[np.ndarray, list[Face]]:
        """The frame decorated, and its faces. `t` (seconds) times the compositor's fades and filters: a
        camera's clock, or frame number / fps for a file (the same file then always gives the same output).
        The caller's frame is drawn on only when it says it is the pipeline's to `own` (a camera reader may hand
        the same frame again)."""
        given, frame = frame, as_bgr(frame)
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
                self.classifier.classify(frame, faces)  # all faces in one batch
                if self.smoother is not None:
                    self.smoother.update(faces, self.tracker.active_ids)
            t3 = time.perf_counter()
            stage = "compositing"
            # A copy only when something is drawn on a frame that is still the caller's (as_bgr made a new one
            # for gray and BGRA frames; a file's reader and the mirror make a new one per frame): a 1280x720
            # copy costs 0.2 ms.
            drawn = faces or self.compositor.drawing
            out = self.compositor.draw(frame.copy() if drawn and frame is given and not own else frame, faces, t)
            t4 = time.perf_counter()
        except Exception as exc:  # noqa: BLE001 - any stage fault must not stop the stream
            self.faults(stage, exc)
            return frame, []
        self.times.add(t1 - t0, t2 - t1, t3 - t2, t4 - t3)
        return out, faces

    def _detect(self, frame: np.ndarray, gray: np.ndarray):
        """(detections, gray of the frame they were made on) when a detection is ready for this frame."""
        every = self.detect_every * (self.calm_every if self.tracker.steady else 1)
        due = self._frame_no - self._submitted_at >= every or self.tracker.lost
        if not self.live:
            return (find_faces(self.detector, self._regions(frame, copy=False)), None) if due else None
        if self._worker is None:
            self._worker = DetectWorker(self.detector)
        result = self._worker.poll()
        if due and not self._worker.busy:
            # Copies: the caller may draw into or reuse its frame while the worker still reads this one.
            self._worker.submit(self._regions(frame, copy=True), gray)
        return None if result is None else (result[1], result[0])

    def _regions(self, frame: np.ndarray, copy: bool) -> list[Region]:
        """Where to look now: around the tracks while they follow steadily, the whole frame every `calm_every`-th
        time (new faces) and whenever a track is new, missed or lost."""
        self._submitted_at = self._frame_no
        if self.tracker.steady and self._frame_no - self._searched_at < self.detect_every * self.search_every:
            return regions_around(frame, self.tracker.boxes)
        self._searched_at = self._frame_no
        return whole(frame, getattr(self.detector, "max_width", None), copy)

    def wait_for_detection(self, timeout: float = 10.0) -> bool:
        """Block until the detection in flight (live mode) is done: tests that play a file as a camera use it so
        that what they assert does not depend on how busy the machine is."""
        return self._worker is None or self._worker.wait(timeout)

    def close(self) -> None:
        """Release the detector (after the detection in hand, if any); a second call does nothing."""
        if self._worker is not None:
            self._retire_worker(wait=True, close_detector=True)
        elif not self._closed:
            self.detector.close()
        self._closed = True
