"""A camera that never stalls the call: reads happen on a thread of their own; when they fail the stream
carries on with the last good frame for a moment, then a "camera lost, reconnecting" card, while the camera
is reopened with exponential backoff. It resumes by itself when the camera is back."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import numpy as np

from . import cards
from .frames import CARD, Frame, fit
from .sources import Source

log = logging.getLogger(__name__)


class ResilientSource(Source):
    """Wraps `open_fn()` (returns a Source; may raise while the camera is away). read() returns within one
    frame interval, always a frame of the stream's original size, until close()."""

    live = True

    def __init__(self, open_fn: Callable[[], Source], *, first: Source | None = None, grace: float = 1.0,
                 retry_reads: int = 3, backoff: tuple[float, float] = (0.25, 5.0), lost_text: str = cards.LOST,
                 missing: tuple[str, tuple[int, int]] | None = None):
        """`missing` (name, size): a camera absent at start is waited for, behind the "no camera" card, as a
        lost one is; without it, a camera missing at start is the caller's error (open_fn's exception)."""
        source = first
        if source is None:
            try:
                source = open_fn()
            except Exception:  # noqa: BLE001 - UserError or a driver's error: wait for it, if asked to
                if missing is None:
                    raise
        self._open, self.name = open_fn, source.name if source is not None else missing[0]
        self.fps = source.fps if source is not None else 30.0
        self._size = source.size if source is not None else missing[1]
        self.opened = source is not None  # it gave a picture once: a card now means lost, not missing
        self._interval = 1.0 / self.fps
        self.grace, self.retry_reads, self.backoff, self.lost_text = grace, retry_reads, backoff, lost_text
        self.reconnects = 0      # successful reopenings
        self.failed_reads = 0    # reads that returned nothing or raised, all told
        self.stamp, self.seq, self.dropped = 0.0, 0, 0  # capture time and number of the last frame read()
        self._stamp, self._seq = 0.0, 0                  # returned fresh; frames replaced unread
        self._frame: np.ndarray | None = None
        self._good_at = time.monotonic()
        self._new = False
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
        record = self.read_frame()
        return None if record is None else record.image

    def read_frame(self) -> Frame | None:
        """A fresh frame; the last one again for a moment (a glitch); then the reconnecting card, marked as a
        card so that no stage looks for faces on it. None once closed."""
        if self._stop.is_set():
            return None
        with self._cond:
            if self._cond.wait_for(lambda: self._new or self._stop.is_set(), self._interval) and self._new:
                self._new = False
                self.stamp, self.seq = self._stamp, self._seq
                return Frame(self._frame)
            frame, good_at = self._frame, self._good_at
        if self._stop.is_set():
            return None
        if time.monotonic() - good_at < self.grace:
            if frame is not None:
                return Frame(frame)
            return Frame(cards.card(cards.STARTING if self.opened else cards.NO_CAMERA, self._size), CARD)
        return Frame(cards.card(self.lost_text if self.opened else cards.NO_CAMERA, self._size), CARD)

    def _loop(self, source: Source | None) -> None:
        state = {"delay": self.backoff[0], "misses": 0, "outage": False, "delivered": True}
        try:
            while not self._stop.is_set():
                try:
                    source = self._step(source, state)
                except Exception:  # noqa: BLE001 - a fault in one step must not end the thread: the card would stay
                    log.exception("reading %s failed; reconnecting", self.name)
                    if source is not None:
                        _close(source)
                    source = None
                    self._stop.wait(state["delay"])
                    state["delay"] = min(state["delay"] * 2, self.backoff[1])
        finally:
            if source is not None:
                _close(source)

    def _step(self, source: Source | None, st: dict) -> Source | None:
        """One read (or one reopening attempt); returns the source to use next."""
        if source is None:
            source = self._reopen()
            if source is None:
                self._stop.wait(st["delay"])
                st["delay"] = min(st["delay"] * 2, self.backoff[1])
                return None
            st["delivered"] = False
        try:
            frame = source.read()
        except Exception as exc:  # noqa: BLE001 - drivers raise anything when a device vanishes
            log.debug("reading %s raised %s", self.name, exc)
            frame = None
        if frame is None or frame.size == 0:
            self.failed_reads += 1
            st["misses"] += 1
            if st["misses"] <= self.retry_reads:  # a glitch: give the same device another chance
                self._stop.wait(self._interval)
                return source
            if not st["outage"]:
                log.warning("%s stopped sending frames; reconnecting", self.name)
                st["outage"] = True
            _close(source)
            st["misses"] = 0
            if not st["delivered"]:  # it opens but sends nothing: back off, don't spin on it
                self._stop.wait(st["delay"])
                st["delay"] = min(st["delay"] * 2, self.backoff[1])
            return None
        st.update(misses=0, delivered=True, delay=self.backoff[0])
        if st["outage"]:
            log.warning("%s is back", self.name)
            st["outage"] = False
        # A camera may come back at another resolution; the virtual camera's size is fixed for the call.
        self._publish(fit(frame, self._size))
        return source

    def _reopen(self) -> Source | None:
        try:
            source = self._open()
        except Exception as exc:  # noqa: BLE001 - UserError while unplugged, driver errors, anything
            log.debug("reopening %s failed: %s", self.name, exc)
            return None
        self.reconnects += 1
        self.opened = True
        return source

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
