"""The detector interface: a BGR frame in, Face records (boxes clipped to the frame) out."""
from __future__ import annotations

from abc import ABC, abstractmethod

import cv2
import numpy as np

from ..face import Face
from ..frames import as_bgr


class Detector(ABC):
    name = "base"

    def __init__(self, max_width: int = 640):
        # Detection runs on a copy no wider than this; boxes are scaled back to the full frame.
        self.max_width = max_width

    def detect(self, frame: np.ndarray) -> list[Face]:
        frame = as_bgr(frame)
        scale = min(1.0, self.max_width / frame.shape[1]) if self.max_width else 1.0
        small = frame if scale == 1.0 else cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        faces = self._detect(small)
        if scale != 1.0:
            for f in faces:
                f.box = tuple(int(round(v / scale)) for v in f.box)
                f.landmarks = {k: (int(round(px / scale)), int(round(py / scale))) for k, (px, py) in f.landmarks.items()}
        h, w = frame.shape[:2]
        from ..face import clip_box

        kept = []
        for f in faces:
            box = clip_box(*f.box, w, h)
            if box is not None:
                f.box = box
                kept.append(f)
        return kept

    @abstractmethod
    def _detect(self, frame: np.ndarray) -> list[Face]:
        """Faces in a BGR frame, boxes in that frame's pixels (may reach past its edges)."""

    def close(self) -> None:
        pass
