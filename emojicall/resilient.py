"""A camera that never stalls the call: reads happen on a thread of their own; when they fail the stream
carries on with the last good frame for a moment, then a "camera lost, reconnecting" card, while the camera
is reopened with exponential backoff. It resumes by itself when the camera is back."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import cv2
import numpy as np

from .cards import card
from .sources import Source

log = logging.getLogger(__name__)
LOST_TEXT = "camera lost, reconnecting"
STARTING_TEXT = "starting camera"


class ResilientSource(Source):
    """Wraps `open_fn()` (returns a Source; may raise while the camera is away). read() returns within one
    frame interval, always a frame of the stream's original size, until close()."""

    live = True

    def __init__(self, open_fn: Callable[[], Source], *, first: Source | None = None, grace: float = 1.0,
                 retry_reads: int = 3, backoff: tuple[float, float] = (0.25, 5.0), lost_text: str = LOST_TEXT):
        source = first if first is not None else open_fn()  # a camera missing at start is the caller's error
        self._open, self.name, self.fps = open_fn, source.name, source.fps
        self._size = source.size
        self._interval = 1.0 / self.fps
        self.grace, self.retry_reads, self.backoff, self.lost_text = grace, retry_reads, backoff, lost_text
        self.reconnects = 0      # successful reopenings
        self.failed_reads = 0    # reads that returned nothing or raised, all told
        self.stamp, self.seq, self.dropped = 0.0, 0, 0  # as LatestFrameReader: capture time and number of
        self._stamp, self._seq = 0.0, 0                  # the last frame read() returned fresh
        self._frame: np.ndarray | None = None
        self._good_at = time.monotonic()
        self._new = False
        self._cards: dict[str, np.ndarray] = {}
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(source,), name="camera", daemon=True)
        self._thread.start()

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    @property
    def lost(self) -> bool:
        """True while read() hands out the reconnecting card (no good frame for longer than `grace`)."""
        return time.monotonic() - self._good_at >= self.grace

    def read(self) -> np.ndarray | None:
        if self._stop.is_set():
            return None
        with self._cond:
            if self._cond.wait_for(lambda: self._new or self._stop.is_set(), self._interval) and self._new:
                self._new = False
                self.stamp, self.seq = self._stamp, self._seq
                return self._frame
            frame, good_at = self._frame, self._good_at
        if self._stop.is_set():
            return None
        if time.monotonic() - good_at < self.grace:
            return frame if frame is not None else self._card(STARTING_TEXT)
        return self._card(self.lost_text)

    def _card(self, text: str) -> np.ndarray:
        if text not in self._cards:
            self._cards[text] = card(text, self._size)
        return self._cards[text]

    def _loop(self, source: Source | None) -> None:
        delay, misses, outage, delivered = self.backoff[0], 0, False, True
        try:
            while not self._stop.is_set():
                if source is None:
                    source = self._reopen()
                    if source is None:
                        self._stop.wait(delay)
                        delay = min(delay * 2, self.backoff[1])
                        continue
                    delivered = False
                try:
                    frame = source.read()
                except Exception as exc:  # noqa: BLE001 - drivers raise anything when a device vanishes
                    log.debug("reading %s raised %s", self.name, exc)
                    frame = None
                if frame is None or frame.size == 0:
                    self.failed_reads += 1
                    misses += 1
                    if misses <= self.retry_reads:  # a glitch: give the same device another chance
                        self._stop.wait(self._interval)
                        continue
                    if not outage:
                        log.warning("%s stopped sending frames; reconnecting", self.name)
                        outage = True
                    _close(source)
                    source, misses = None, 0
                    if not delivered:  # it opens but sends nothing: back off, don't spin on it
                        self._stop.wait(delay)
                        delay = min(delay * 2, self.backoff[1])
                    continue
                misses, delivered, delay = 0, True, self.backoff[0]
                if outage:
                    log.warning("%s is back", self.name)
                    outage = False
                self._publish(self._fit(frame))
        finally:
            if source is not None:
                _close(source)

    def _reopen(self) -> Source | None:
        try:
            source = self._open()
        except Exception as exc:  # noqa: BLE001 - UserError while unplugged, driver errors, anything
            log.debug("reopening %s failed: %s", self.name, exc)
            return None
        self.reconnects += 1
        return source

    def _fit(self, frame: np.ndarray) -> np.ndarray:
        """A camera may come back at another resolution; the virtual camera's size is fixed for the call."""
        if (frame.shape[1], frame.shape[0]) != self._size:
            frame = cv2.resize(frame, self._size, interpolation=cv2.INTER_AREA)
        return frame

    def _publish(self, frame: np.ndarray) -> None:
        with self._cond:
            if self._new:
                self.dropped += 1
            self._frame, self._new, self._good_at = frame, True, time.monotonic()
            self._stamp, self._seq = time.perf_counter(), self._seq + 1
            self._cond.notify_all()

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        # The worker releases the device itself (never from two threads at once); a read stuck in a driver
        # can outlast this wait, and the daemon thread then releases the device when the read returns.
        self._thread.join(timeout=5)


def _close(source: Source) -> None:
    try:
        source.close()
    except Exception as exc:  # noqa: BLE001 - releasing a vanished device may fail; nothing left to do
        log.debug("closing %s failed: %s", getattr(source, "name", source), exc)
