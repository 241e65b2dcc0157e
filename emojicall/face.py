"""The record passed between stages: one face in one frame."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .labels import LABELS


@dataclass
class Face:
    box: tuple[int, int, int, int]          # x, y, w, h in frame pixels, inside the frame
    score: float = 1.0                      # detector confidence
    landmarks: dict[str, tuple[int, int]] = field(default_factory=dict)
    probs: np.ndarray | None = None         # class probabilities in LABELS order (after smoothing, if any)
    track_id: int | None = None

    @property
    def label(self) -> str | None:
        return None if self.probs is None else LABELS[int(np.argmax(self.probs))]

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]


def clip_box(x: float, y: float, w: float, h: float, width: int, height: int) -> tuple[int, int, int, int] | None:
    """Integer box clipped to a width x height frame; None when nothing of it is left inside."""
    x0, y0 = max(0, int(round(x))), max(0, int(round(y)))
    x1, y1 = min(width, int(round(x + w))), min(height, int(round(y + h)))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return x0, y0, x1 - x0, y1 - y0


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0
