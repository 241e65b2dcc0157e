"""MTCNN from the `mtcnn` package (TensorFlow inside: imported only when this detector is chosen)."""
from __future__ import annotations

import contextlib
import io
import os

import cv2
import numpy as np

from ..face import Face
from .base import Detector


class MTCNNDetector(Detector):
    name = "mtcnn"

    def __init__(self, threshold: float = 0.9, min_face_size: int = 20, scale_factor: float = 0.709,
                 thresholds_stages: tuple[float, float, float] = (0.6, 0.7, 0.8), max_width: int = 640):
        super().__init__(max_width)
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TF logs to stderr are noise for users
        from ..tfquiet import import_tensorflow

        import_tensorflow()
        with contextlib.redirect_stdout(io.StringIO()):
            from mtcnn import MTCNN

            self._mtcnn = MTCNN(device="CPU:0")
        self.threshold = threshold
        # mtcnn 1.0 on Keras 3 fails with an empty-output convolution for some min_face_size values (40, 80 on
        # 640x480 were seen to fail; 20 and 60 work): keep the ones the tests cover.
        self._kwargs = dict(min_face_size=min_face_size, scale_factor=scale_factor,
                            threshold_pnet=thresholds_stages[0], threshold_rnet=thresholds_stages[1],
                            threshold_onet=thresholds_stages[2])

    def _detect(self, frame: np.ndarray) -> list[Face]:
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        found = self._mtcnn.detect_faces(rgb, **self._kwargs)
        faces = []
        for d in found:
            if d["confidence"] < self.threshold:
                continue
            landmarks = {k: (int(v[0]), int(v[1])) for k, v in d.get("keypoints", {}).items()}
            faces.append(Face(box=tuple(int(v) for v in d["box"]), score=float(d["confidence"]), landmarks=landmarks))
        return faces
