"""The one frame loop, driven by `emojicall run`, the tray and the benches: read a frame record, mirror it if
asked, run the pipeline on camera frames, letterbox to the output size, send to the sink (and the preview),
tell the listeners, count fps, keep the pace.

Every fault is handled here once: a frame that cannot be read or made goes out as the error card, a stage fault
costs that frame its overlay (Pipeline), a sink that fails is closed (guarded) and replaced by nothing, with one
problem report, and a preview closed by the user ends the preview, not the stream.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from . import cards
from .errors import Problem, UserError
from .frames import CARD, Frame, as_bgr, fit
from .pipeline import Pipeline, RateLimitedLog
from .sinks import NullSink, Sink

log = logging.getLogger(__name__)
# (area, problem): what went wrong where, for the CLI's one line or the tray's problem list.
ProblemHandler = Callable[[str, Problem], None]


class FPSMonitor:
    """Frames per second as a moving average of the interval between frames: steadier than instantaneous rates."""

    def __init__(self, smoothing: float = 0.1):
        self.smoothing, self.value, self._last, self._interval = smoothing, 0.0, None, 0.0

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if self._last is not None:
            gap = now - self._last
            self._interval = gap if self._interval == 0 else \
                (1 - self.smoothing) * self._interval + self.smoothing * gap
            self.value = 1.0 / max(self._interval, 1e-6)
        self._last = now


@dataclass
class RunStats:
    frames: int = 0
    faces: int = 0
    seconds: float = 0.0      # wall time of run()
    cpu_seconds: float = 0.0  # this process's CPU time (all threads) during run(): capture decoding included
    dropped: int = 0          # frames the source passed over because the loop was not ready for them

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_share(self) -> float:
        """CPU use as a share of one core (0.14: 14% of one core)."""
        return self.cpu_seconds / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        return (f"{self.frames} frames, {self.dropped} dropped, {self.fps:.1f} fps mean, "
                f"CPU {100 * self.cpu_share:.0f}% of one core")


def _log_problem(area: str, problem: Problem) -> None:
    log.warning("%s: %s", area, problem)


def _close(thing, what: str) -> None:
    try:
        thing.close()
    except Exception as exc:  # noqa: BLE001 - a vanished device may fail to close; nothing is left to do
        log.debug("closing the %s failed (%s)", what, exc)


class Stream:
    """Built with its parts; changed only through the use_* and set_* methods, between two frames.

    Pacing has one rule: the sink sets it. A sink with a `paced_fps` (the virtual camera: call apps want a steady
    rate) gets at most that many frames a second, with no burst to catch up after a slow frame; any other sink
    takes frames as the source gives them: a camera (or a file played `--realtime`) at its own rate, a file as
    fast as the chain goes. Detection runs on its own thread when the source is live: a camera frame must never
    wait for the detector. A file is processed frame by frame, so the same file always gives the same output.
    Mirroring happens here, in one place, before the pipeline sees the frame."""

    def __init__(self, sink: Sink | None = None, *, source=None, pipeline: Pipeline | None = None,
                 preview: Sink | None = None, size: tuple[int, int] | None = None, mirror: bool = False,
                 on_problem: ProblemHandler = _log_problem, stop_when_sink_fails: bool = False):
        self.size, self.mirror, self.preview = size, mirror, preview
        self.on_problem, self.stop_when_sink_fails = on_problem, stop_when_sink_fails
        self.listeners: list[Callable] = []
        self.live, self.source_fps, self.source = False, 30.0, None
        self.pipeline: Pipeline | None = None
        self.sink_failed = False
        self.fps = FPSMonitor()
        self.stats = RunStats()
        self.faces: list = []
        self.faults = RateLimitedLog()
        self._last_size = size or (640, 360)
        self.use_sink(sink or NullSink())
        self.use_source(source)
        self.use_pipeline(pipeline)

    def use_source(self, source) -> None:
        """Read from this source now: whether it is live, a file's rate (its frames' times are number / fps)."""
        self.source = source
        self.live = bool(source is not None and source.live)
        if source is not None:
            self.source_fps = source.fps
        if self.pipeline is not None:
            self.pipeline.set_live(self.live)

    def use_pipeline(self, pipeline: Pipeline | None) -> None:
        """The chain that decorates camera frames (None: frames go out plain, e.g. while models load)."""
        self.pipeline = pipeline
        if pipeline is not None:
            pipeline.set_live(self.live)

    def use_sink(self, sink: Sink) -> None:
        self.sink, self.pace_fps = sink, sink.paced_fps

    def set_mirror(self, on: bool) -> None:
        self.mirror = bool(on)

    def add_listener(self, listener: Callable) -> None:
        """listener(frame_out, faces) after each frame: the events file, a bench's timer. A listener that
        raises UserError is reported and removed; any other fault is logged and it stays."""
        self.listeners.append(listener)

    def open_preview(self, preview: Sink) -> None:
        self.close_preview()
        self.preview = preview

    # --- one frame --------------------------------------------------------------------------------------
    def step(self, record: Frame) -> bool:
        """Make and send one frame; False when the stream should end (the user closed the window it goes to,
        or its sink failed and `stop_when_sink_fails`)."""
        out, faces = self._make(record)
        if self.size is not None:
            out = fit(out, self.size)
        self._last_size = (out.shape[1], out.shape[0])
        self.faces = faces
        self.stats.frames += 1
        self.stats.faces += len(faces)
        for listener in list(self.listeners):
            try:
                listener(out, faces)
            except UserError as exc:
                self.on_problem("events", exc.problem)
                self.listeners.remove(listener)
            except Exception as exc:  # noqa: BLE001 - a listener's bug must not stop the stream
                self.faults("frame listener", exc)
        keep = self._send(out)
        self._send_preview(out)
        self.fps.tick()
        return keep

    def _make(self, record: Frame) -> tuple[np.ndarray, list]:
        try:
            if record.kind == CARD:
                return as_bgr(record.image), []
            frame = cv2.flip(record.image, 1) if self.mirror else record.image
            if self.pipeline is None:  # detector or model still loading (or missing): the plain picture
                return as_bgr(frame), []
            t = time.monotonic() if self.live else self.stats.frames / (self.source_fps or 30.0)
            return self.pipeline.process(frame, t, own=record.own or self.mirror)
        except Exception as exc:  # noqa: BLE001 - Pipeline isolates its stages; this catches the rest
            self.faults("frame", exc)
            return self.error_card(record.image), []

    def error_card(self, like: np.ndarray | None = None) -> np.ndarray:
        """The error card at the output's size (or the size of the frame it stands in for, or the last one)."""
        size = self.size or ((like.shape[1], like.shape[0]) if like is not None else self._last_size)
        return cards.card(cards.ERROR, size)

    def _send(self, out: np.ndarray) -> bool:
        try:
            return bool(self.sink.send(out))
        except Exception as exc:  # noqa: BLE001 - a device unplugged mid-call, a full disk: say so, once
            area = getattr(self.sink, "area", "output")
            why = f"sending failed ({type(exc).__name__}: {exc})"
            self.on_problem(area, Problem(why, getattr(self.sink, "fix", "")))
            _close(self.sink, area)
            self.sink, self.sink_failed = NullSink(), True
            return not self.stop_when_sink_fails

    def _send_preview(self, out: np.ndarray) -> None:
        if self.preview is None:
            return
        try:
            still_open = self.preview.send(out)
        except Exception as exc:  # noqa: BLE001 - the preview is a convenience: never the stream's end
            self.on_problem("preview", Problem(f"the preview window failed ({exc})"))
            still_open = False
        if not still_open:
            why = getattr(getattr(self.preview, "window", None), "why_closed", lambda: "")()
            if why:
                self.on_problem("preview", Problem(f"the preview window could not open ({why})",
                                                   "start EmojiCall from your desktop session"))
            self.close_preview()

    def close_preview(self) -> None:
        if self.preview is not None:
            preview, self.preview = self.preview, None
            _close(preview, "preview")

    # --- the loop ---------------------------------------------------------------------------------------
    def run(self, read: Callable[[], Frame | None] | None = None, *, stop: threading.Event | None = None,
            max_frames: int | None = None, before: Callable[[], None] | None = None) -> RunStats:
        """Until `read` (default: the source's read_frame) returns None, max_frames, the sink says stop, or
        `stop` is set. `before` runs before each frame (the tray applies its queued menu actions there).
        Nothing is closed here."""
        stop = stop or threading.Event()
        read = read or (lambda: self.source.read_frame())
        t0, cpu0 = time.perf_counter(), time.process_time()
        due = time.monotonic()
        while not stop.is_set() and (max_frames is None or self.stats.frames < max_frames):
            try:
                if before is not None:
                    before()
                record = read()
            except Exception as exc:  # noqa: BLE001 - one bad read or command must not end the stream
                self.faults("frame", exc)
                record = Frame(self.error_card(), CARD)
            if record is None or not self.step(record):
                break
            if self.pace_fps:
                due += 1.0 / self.pace_fps
                now = time.monotonic()
                if due < now:  # running behind: no burst to catch up
                    due = now
                else:
                    stop.wait(due - now)
        self.stats.seconds = time.perf_counter() - t0
        self.stats.cpu_seconds = time.process_time() - cpu0
        self.stats.dropped = getattr(self.source, "dropped", 0)
        return self.stats

    def close(self) -> None:
        """Release the sink, the preview and the pipeline, each guarded, so one failure never skips the rest."""
        self.close_preview()
        _close(self.sink, getattr(self.sink, "area", "output"))
        if self.pipeline is not None:
            _close(self.pipeline, "pipeline")
