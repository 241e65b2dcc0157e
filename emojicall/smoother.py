"""Per-track smoothing of class probabilities: an exponential moving average plus hysteresis, so a still
face keeps its emoji while a real change of expression still shows within a few frames."""
from __future__ import annotations

import numpy as np

from .face import Face


class EmotionSmoother:
    def __init__(self, alpha: float = 0.35, margin: float = 0.08):
        # alpha: weight of the newest frame (0.35 at 30 fps reaches 90% of a step change in ~6 frames, 0.2 s).
        # margin: a new class must beat the shown one by this much probability before the emoji switches.
        self.alpha, self.margin = alpha, margin
        self._avg: dict[int, np.ndarray] = {}
        self._shown: dict[int, int] = {}

    def update(self, faces: list[Face], active_ids: set[int] | None = None) -> list[Face]:
        for f in faces:
            if f.probs is None or f.track_id is None:
                continue
            avg = self._avg.get(f.track_id)
            avg = f.probs.astype(np.float32) if avg is None else (1 - self.alpha) * avg + self.alpha * f.probs
            self._avg[f.track_id] = avg
            best, shown = int(np.argmax(avg)), self._shown.get(f.track_id)
            if shown is None or avg[best] > avg[shown] + self.margin:
                shown = best
            self._shown[f.track_id] = shown
            # Expose the smoothed distribution with the shown class on top, so Face.label is what is drawn.
            out = avg.copy()
            out[shown] = max(out[shown], float(avg.max()) + 1e-6)
            f.probs = out
        if active_ids is not None:
            for tid in set(self._avg) - active_ids:
                self._avg.pop(tid, None)
                self._shown.pop(tid, None)
        return faces

    def reset(self) -> None:
        self._avg.clear()
        self._shown.clear()
