"""Per-track smoothing of class probabilities, so a still face keeps its emoji while a real change of
expression still shows within half a second: a per-class median of the last 3 frames (one odd frame, however
confident, is removed outright), an exponential moving average of that, hysteresis on the shown class (a
challenger must lead by `margin`), and a minimum hold after each switch.
The defaults come from bench/realtime.py's smoothing measurement (docs/realtime.md)."""
from __future__ import annotations

import numpy as np

from .face import Face


class EmotionSmoother:
    def __init__(self, alpha: float = 0.3, margin: float = 0.1, hold: int = 8):
        # alpha: weight of the newest frame. margin: lead in averaged probability a new class needs over the
        # shown one. hold: frames the shown class stays after a switch (8 = 0.27 s at 30 fps).
        self.alpha, self.margin, self.hold = alpha, margin, hold
        self._avg: dict[int, np.ndarray] = {}
        self._shown: dict[int, int] = {}
        self._age: dict[int, int] = {}  # frames since the last switch
        self._recent: dict[int, list[np.ndarray]] = {}  # last 3 raw probability vectors

    def update(self, faces: list[Face], active_ids: set[int] | None = None) -> list[Face]:
        for f in faces:
            if f.probs is None or f.track_id is None:
                continue
            tid = f.track_id
            recent = self._recent.setdefault(tid, [])
            recent.append(f.probs.astype(np.float32))
            del recent[:-3]
            probs = np.median(recent, axis=0) if len(recent) == 3 else recent[-1]
            avg = self._avg.get(tid)
            avg = probs if avg is None else (1 - self.alpha) * avg + self.alpha * probs
            self._avg[tid] = avg
            best, shown, age = int(np.argmax(avg)), self._shown.get(tid), self._age.get(tid, 0) + 1
            if shown is None or (best != shown and age > self.hold and avg[best] > avg[shown] + self.margin):
                shown, age = best, 0
            self._shown[tid], self._age[tid] = shown, age
            # Expose the smoothed distribution with the shown class on top, so Face.label is what is drawn.
            out = avg.copy()
            out[shown] = max(out[shown], float(avg.max()) + 1e-6)
            f.probs = out
        if active_ids is not None:
            for tid in set(self._avg) - active_ids:
                self._avg.pop(tid, None)
                self._shown.pop(tid, None)
                self._age.pop(tid, None)
                self._recent.pop(tid, None)
        return faces

    def reset(self) -> None:
        self._avg.clear()
        self._shown.clear()
        self._age.clear()
        self._recent.clear()
