"""MTCNN from the `mtcnn` package (TensorFlow inside: imported only when this detector is chosen).

Two fixes make it usable in real time:
- mtcnn 1.0 sizes its image pyramid from the frame alone, ignoring min_face_size, so any min_face_size above
  ~25 adds levels under 12 px; PNet then raises InvalidArgumentError, which mtcnn catches and reports as
  "no faces" (min_face_size 30-80 on 640x480 found nothing; other builds fail with an empty-output conv
  error). `_pyramid` is the original MTCNN rule: stop when the scaled frame drops under 12 px.
- each stage's network is wrapped in tf.function: the eager Keras calls cost more than the convolutions
  (110 -> 45 ms a 640x480 frame, same boxes).
"""
from __future__ import annotations

import contextlib
import io

import cv2
import numpy as np

from ..face import Face
from ..tfquiet import import_tensorflow
from .base import Detector

# Tuned for a webcam at arm's length: faces of 40+ px in the (at most) 640-wide copy detection runs on.
# bench/detectors.py measures this against the package defaults (docs/detectors.md).
TUNED = dict(max_width=640, min_face_size=40, scale_factor=0.709, thresholds_stages=(0.6, 0.7, 0.8))
PACKAGE_DEFAULTS = dict(max_width=0, min_face_size=20, scale_factor=0.709, thresholds_stages=(0.6, 0.7, 0.8))


def _pyramid(width, height, min_face_size, scale_factor, min_size=12):
    m = min_size / min_face_size
    n = int(np.floor(np.log(min_size / (min(width, height) * m)) / np.log(scale_factor))) + 1
    return m * scale_factor ** np.arange(max(n, 0))


class MTCNNDetector(Detector):
    name = "mtcnn"

    def __init__(self, threshold: float = 0.9, min_face_size: int = TUNED["min_face_size"],
                 scale_factor: float = TUNED["scale_factor"],
                 thresholds_stages: tuple[float, float, float] = TUNED["thresholds_stages"],
                 max_width: int = TUNED["max_width"], compile: bool = True):
        super().__init__(max_width)
        tf = import_tensorflow()  # first, with its C++ start-up lines kept off the user's terminal
        with contextlib.redirect_stdout(io.StringIO()):
            import mtcnn.stages.stage_pnet as stage_pnet
            from mtcnn import MTCNN

            stage_pnet.build_scale_pyramid = _pyramid
            self._mtcnn = MTCNN(device="CPU:0")
        if compile:
            for stage in self._mtcnn.stages:
                stage._model = tf.function(stage._model, reduce_retracing=True)
        self.threshold = threshold
        self._kwargs = dict(min_face_size=min_face_size, scale_factor=scale_factor,
                            threshold_pnet=thresholds_stages[0], threshold_rnet=thresholds_stages[1],
                            threshold_onet=thresholds_stages[2])

    def _detect(self, frame: np.ndarray) -> list[Face]:
        if min(frame.shape[:2]) < self._kwargs["min_face_size"]:
            return []
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        found = self._mtcnn.detect_faces(rgb, **self._kwargs)
        faces = []
        for d in found:
            if d["confidence"] < self.threshold:
                continue
            landmarks = {k: (int(v[0]), int(v[1])) for k, v in d.get("keypoints", {}).items()}
            faces.append(Face(box=tuple(int(v) for v in d["box"]), score=float(d["confidence"]), landmarks=landmarks))
        return faces
