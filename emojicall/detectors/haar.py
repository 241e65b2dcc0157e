"""OpenCV's frontal-face Haar cascade, from the XML files that opencv-python-headless ships in cv2.data."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..errors import UserError
from ..face import Face
from .base import Detector

CASCADE = "haarcascade_frontalface_default.xml"


class HaarDetector(Detector):
    name = "haar"

    # Kept at 1.1 / 5 / 30: 1.15 was faster but lost 5 of 36 faces on the silver video frames, min 24 found
    # more photo faces but fired on 3 negatives instead of 1 (docs/detectors.md).
    def __init__(self, scale_factor: float = 1.1, min_neighbors: int = 5, min_size: int = 30,
                 max_width: int = 640, cascade: str | Path | None = None):
        super().__init__(max_width)
        path = Path(cascade) if cascade else Path(cv2.data.haarcascades) / CASCADE
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise UserError(f"cannot load Haar cascade {path}: reinstall opencv-python-headless (>=4.10,<5)")
        self.scale_factor, self.min_neighbors, self.min_size = scale_factor, min_neighbors, min_size

    def _detect(self, frame: np.ndarray) -> list[Face]:
        # No equalizeHist: on the backlit Intel ASL webcam clip it cut Haar's hits from 109/109 frames to 20.
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        boxes, _, weights = self._cascade.detectMultiScale3(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size), outputRejectLevels=True)
        # levelWeights are unbounded stage sums; squash them to (0, 1) so scores compare across detectors.
        return [Face(box=tuple(int(v) for v in b), score=float(1 / (1 + np.exp(-float(s)))))
                for b, s in zip(boxes, np.ravel(weights))]
