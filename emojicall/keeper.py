"""The tray's camera, kept: opened, paused (released, so its light goes off), switched, and read frame by frame.

A camera is a ResilientSource, which waits for a missing camera and reconnects a lost one by itself; the keeper
only turns what it shows into the "camera" problem. A video file standing in for the camera (demos, tests, OBS
rehearsals) plays at its own rate and loops. While paused, the keeper hands out the paused card at the
virtual camera's rate, as a camera would: call apps treat a camera that stops delivering as broken.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from . import build, cards
from .cameras import NO_CAMERA_FIX
from .errors import Problem, UserError
from .frames import CARD, Frame
from .sources import Source

ProblemReport = Callable[[str, Problem | None], None]


def open_for_tray(spec: str, width: int, height: int) -> Source:
    """A camera index never fails here (a missing one is waited for); a file that cannot be read raises."""
    if spec.isdigit():
        from .resilient import ResilientSource

        return ResilientSource(build.reopener(spec, width, height), missing=(f"camera {spec}", (width, height)))
    return build.source(spec, width, height, realtime=True)


class SourceKeeper:
    def __init__(self, spec: str, size: tuple[int, int], fps: float, on_problem: ProblemReport,
                 opener: Callable[[str, int, int], Source] = open_for_tray):
        self.spec, self.size, self.on_problem, self._opener = spec, size, on_problem, opener
        self.paused = False
        self.source: Source | None = None
        self._interval = 1.0 / fps
        self._card_due = 0.0
        self._wake = threading.Event()

    def open(self) -> None:
        self.close()
        if self.paused:
            return
        try:
            self.source = self._opener(self.spec, *self.size)
        except UserError as exc:  # a file that is gone or unreadable: say so, and show the no-camera card
            self.on_problem("camera", exc.problem)
            return
        self.on_problem("camera", None)

    def close(self) -> None:
        if self.source is not None:
            source, self.source = self.source, None
            source.close()

    def switch(self, spec: str) -> None:
        self.spec = spec
        self.open()

    def pause(self, paused: bool) -> None:
        self.paused = paused
        self.open()

    def wake(self) -> None:
        """End a card's wait at once (a menu action is waiting to be applied)."""
        self._wake.set()

    def read(self) -> Frame:
        """The next frame record: the camera's, or the card that says why there is none."""
        if self.paused or self.source is None:
            return self._card(cards.PAUSED if self.paused else cards.NO_CAMERA)
        record = self.source.read_frame()
        if record is None:  # a file at its end: play it again
            self.open()
            record = self.source.read_frame() if self.source is not None else None
            if record is None:
                return self._card(cards.NO_CAMERA)
        opened = getattr(self.source, "opened", True)
        if record.kind == CARD and (not opened or getattr(self.source, "lost", False)):
            what = f"camera {self.spec} was lost; reconnecting" if opened else f"camera {self.spec} gives no picture"
            self.on_problem("camera", Problem(what, NO_CAMERA_FIX))
        elif record.kind != CARD:
            self.on_problem("camera", None)
        return record

    def _card(self, text: str) -> Frame:
        self._card_due = max(self._card_due + self._interval, time.monotonic() - self._interval)
        wait = self._card_due - time.monotonic()
        if wait > 0 and self._wake.wait(wait):
            self._wake.clear()
        return Frame(cards.card(text, self.size), CARD)
