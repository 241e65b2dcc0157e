"""The frame loop: source -> pipeline -> sink, with stats, stop requests and clean release of devices."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from .pipeline import Pipeline
from .sinks import Sink
from .sources import Source


@dataclass
class RunStats:
    frames: int = 0
    faces: int = 0
    seconds: float = 0.0

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def run_stream(source: Source, sink: Sink, pipeline: Pipeline, *, max_frames: int | None = None,
               stop: threading.Event | None = None, on_frame=None, pace_fps: float | None = None,
               async_detect: bool | None = None) -> RunStats:
    """Process frames until the source ends, max_frames, the sink says stop, or `stop` is set.
    Source and sink are not closed here: whoever opened them closes them. `pace_fps` plays a file source
    in real time (for a virtual camera); live sources pace themselves. Detection runs on its own thread
    (`async_detect`) for live sources unless told otherwise: a camera frame must never wait for the detector."""
    pipeline.async_detect = bool(source.live or pace_fps) if async_detect is None else async_detect
    stats = RunStats()
    t0 = time.perf_counter()
    while (max_frames is None or stats.frames < max_frames) and not (stop and stop.is_set()):
        frame = source.read()
        if frame is None:
            break
        if getattr(source, "lost", False):  # the reconnecting card: no face on it, and old tracks must not draw
            out, faces = frame, []
        else:
            out, faces = pipeline.process(frame)
        stats.frames += 1
        stats.faces += len(faces)
        if on_frame is not None:
            on_frame(out, faces)
        if not sink.send(out):
            break
        if pace_fps:
            due = t0 + stats.frames / pace_fps
            delay = due - time.perf_counter()
            if delay > 0:
                (stop.wait if stop else time.sleep)(delay)
    stats.seconds = time.perf_counter() - t0
    return stats
