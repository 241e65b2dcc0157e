"""MTCNN from the `mtcnn` package, on TensorFlow (imported only when this detector is chosen) or, with
backend="litert", on LiteRT with the same three networks converted once (models/mtcnn, bench/convert_mtcnn.py):
no TensorFlow import, and `_LiteMTCNN` repeats the package's pipeline step for step in NumPy and OpenCV.

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
from pathlib import Path

import cv2
import numpy as np

from ..errors import UserError
from ..face import Face
from ..paths import models_root
from ..litert import LiteModel
from ..tfquiet import require_train_extra
from .base import Detector

# Tuned for a webcam at arm's length: faces of 40+ px in the (at most) 640-wide copy detection runs on.
# bench/detectors.py measures this against the package defaults (docs/detectors.md).
TUNED = dict(max_width=640, min_face_size=40, scale_factor=0.709, thresholds_stages=(0.6, 0.7, 0.8))


def _pyramid(width, height, min_face_size, scale_factor, min_size=12):
    m = min_size / min_face_size
    n = int(np.floor(np.log(min_size / (min(width, height) * m)) / np.log(scale_factor))) + 1
    return m * scale_factor ** np.arange(max(n, 0))


class MTCNNDetector(Detector):
    name = "mtcnn"

    def __init__(self, threshold: float = 0.9, min_face_size: int = TUNED["min_face_size"],
                 scale_factor: float = TUNED["scale_factor"],
                 thresholds_stages: tuple[float, float, float] = TUNED["thresholds_stages"],
                 max_width: int = TUNED["max_width"], compile: bool = True, backend: str = "litert",
                 model_dir: str | None = None):
        super().__init__(max_width)
        self.threshold = threshold
        self._kwargs = dict(min_face_size=min_face_size, scale_factor=scale_factor,
                            threshold_pnet=thresholds_stages[0], threshold_rnet=thresholds_stages[1],
                            threshold_onet=thresholds_stages[2])
        if backend == "litert":
            self._mtcnn = _LiteMTCNN(model_dir or models_root() / "mtcnn")
            return
        if backend != "tensorflow":
            raise UserError(f"unknown MTCNN backend '{backend}'", "use tensorflow or litert")
        from ..tfquiet import import_tensorflow

        require_train_extra("MTCNN on TensorFlow", ("tensorflow", "keras", "mtcnn"))
        tf = import_tensorflow()  # first, with its C++ start-up lines kept off the user's terminal
        with contextlib.redirect_stdout(io.StringIO()):
            import mtcnn.stages.stage_pnet as stage_pnet
            from mtcnn import MTCNN

            stage_pnet.build_scale_pyramid = _pyramid
            self._mtcnn = MTCNN(device="CPU:0")
        if compile:
            for stage in self._mtcnn.stages:
                stage._model = tf.function(stage._model, reduce_retracing=True)

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


class _LiteMTCNN:
    """mtcnn 1.0's detect_faces for one RGB image, on LiteRT. Each step names the mtcnn function it repeats;
    the nets' outputs match Keras to 5e-7 (bench/convert_mtcnn.py)."""

    def __init__(self, folder):
        self._folder = Path(folder)
        self._pnets: dict[tuple[int, int], LiteModel] = {}  # one per pyramid level size: no re-allocation a frame
        self._load("pnet", (1, 12, 12, 3))  # a broken file fails here, not on the first frame
        self._rnet, self._onet = self._load("rnet"), self._load("onet")

    def _load(self, net, shape=None) -> LiteModel:
        return LiteModel(self._folder / f"{net}.tflite", what="MTCNN model", input_shape=shape)

    @staticmethod
    def _run(model: LiteModel, x):
        """Outputs keyed by their last dimension: 4 box offsets, 2 class scores, 10 landmarks."""
        return model.by_width(x)

    def _pnet(self, x):
        key = x.shape[1:3]
        if key not in self._pnets:
            self._pnets[key] = self._load("pnet", x.shape)
        return self._run(self._pnets[key], x)

    def detect_faces(self, rgb, min_face_size=20, scale_factor=0.709, threshold_pnet=0.6, threshold_rnet=0.7,
                     threshold_onet=0.8, nms_pnet1=0.5, nms_pnet2=0.7, nms_rnet=0.7, nms_onet=0.7):
        img = (rgb.astype(np.float32) - 127.5) / 128  # normalize_images
        h, w = img.shape[:2]
        found = []
        for scale in _pyramid(w, h, min_face_size, scale_factor):  # StagePNet
            sh, sw = int(h * scale), int(w * scale)  # tf.image.resize truncates the float size
            if sh < 1 or sw < 1:
                continue
            small = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA)  # = tf AREA resize within 1e-5
            out = self._pnet(small[None])
            boxes = _pnet_boxes(out[4][0], out[2][0], threshold_pnet)
            boxes[:, :4] /= scale
            found.append(boxes[_nms(boxes, nms_pnet1)])
        boxes = np.concatenate(found) if found else np.zeros((0, 5))
        boxes = _square(_nms_sorted(boxes, nms_pnet2))
        for stage, size, thr, nms, method in ((self._rnet, 24, threshold_rnet, nms_rnet, "union"),
                                               (self._onet, 48, threshold_onet, nms_onet, "min")):
            if len(boxes) == 0:
                return []
            out = self._run(stage, _crop_and_resize(img, boxes, size))
            if size == 48:  # adjust_landmarks, from the boxes ONet was given
                bw, bh = boxes[:, 2:3] - boxes[:, 0:1] + 1, boxes[:, 3:4] - boxes[:, 1:2] + 1
                marks = np.concatenate([bw * out[10][:, :5] + boxes[:, 0:1] - 1,
                                        bh * out[10][:, 5:] + boxes[:, 1:2] - 1], axis=1)
            boxes = boxes.copy()
            boxes[:, 4] = out[2][:, 1]  # replace_confidence
            bw, bh = boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1  # adjust_bboxes
            boxes[:, :4] += out[4] * np.stack([bw, bh, bw, bh], axis=1)
            if size == 48:
                boxes = np.concatenate([boxes, marks], axis=1)
            boxes = boxes[boxes[:, 4] > thr]  # pick_matches
            boxes = _nms_sorted(boxes, nms, method)
            if size == 24:
                boxes = _square(boxes)
        boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, w - 1)  # limit_bboxes (landmarks left as they are)
        boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, h - 1)
        out = []
        for b in boxes:  # to_json
            x, y, bw, bh = np.asarray([b[0], b[1], b[2] - b[0], b[3] - b[1]]).round().astype(int)
            m = b[5:].round().astype(int)
            out.append({"box": [int(x), int(y), int(bw), int(bh)], "confidence": float(b[4]),
                        "keypoints": {"left_eye": (m[0], m[5]), "right_eye": (m[1], m[6]), "nose": (m[2], m[7]),
                                      "mouth_left": (m[3], m[8]), "mouth_right": (m[4], m[9])}})
        return out


def _pnet_boxes(reg, cls, threshold, stride=2, cell=12):
    """generate_bounding_box: (N, 5) x1, y1, x2, y2, score for each PNet cell over threshold, best first."""
    ys, xs = np.nonzero(cls[:, :, 1] > threshold)
    r = reg[ys, xs].astype(np.float64)
    x0, y0 = xs * stride + 1, ys * stride + 1
    x1, y1 = xs * stride + cell, ys * stride + cell
    boxes = np.stack([x0 + r[:, 0] * (x1 - x0), y0 + r[:, 1] * (y1 - y0), x1 + r[:, 2] * (x1 - x0),
                      y1 + r[:, 3] * (y1 - y0), cls[ys, xs, 1]], axis=1)
    return boxes[np.argsort(boxes[:, 4])[::-1]]


def _nms(boxes, threshold, method="union"):
    """mtcnn's nms: a box goes when any box before it (kept or not) overlaps it by more than threshold."""
    if len(boxes) == 0:
        return np.zeros(0, int)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    a, b = boxes[None, :], boxes[:, None]
    iw = np.maximum(0, np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]))
    ih = np.maximum(0, np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]))
    inter = iw * ih
    denom = area[:, None] + area[None, :] - inter if method == "union" else np.minimum(area[:, None], area[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        failed = (inter / denom) > threshold
    return np.nonzero((np.triu(failed, k=1)).sum(axis=0) == 0)[0]


def _nms_sorted(boxes, threshold, method="union"):
    boxes = boxes[np.argsort(boxes[:, 4])[::-1]]  # sort_by_scores, descending
    return boxes[_nms(boxes, threshold, method)]


def _square(boxes):
    """resize_to_square: the box's longer side, same centre."""
    boxes = boxes.copy()
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    boxes[:, 0] += w * 0.5 - side * 0.5
    boxes[:, 1] += h * 0.5 - side * 0.5
    boxes[:, 2], boxes[:, 3] = boxes[:, 0] + side, boxes[:, 1] + side
    return boxes


def _crop_and_resize(img, boxes, size):
    """tf.image.crop_and_resize (bilinear, samples outside the image 0) of the boxes, as extract_patches calls it:
    box corners divided by the image's size, sampled over size - 1 steps of (size - 1) pixels."""
    h, w = img.shape[:2]
    steps = np.arange(size, dtype=np.float32) / (size - 1)
    b = boxes[:, :4].astype(np.float32) / np.array([w, h, w, h], np.float32)
    ys = (b[:, 1:2] + steps * (b[:, 3:4] - b[:, 1:2])) * (h - 1)
    xs = (b[:, 0:1] + steps * (b[:, 2:3] - b[:, 0:1])) * (w - 1)
    y0, x0 = np.floor(ys), np.floor(xs)
    ly, lx = (ys - y0)[:, :, None, None], (xs - x0)[:, None, :, None]
    y0i, y1i = np.clip(y0, 0, h - 1).astype(int), np.clip(np.ceil(ys), 0, h - 1).astype(int)
    x0i, x1i = np.clip(x0, 0, w - 1).astype(int), np.clip(np.ceil(xs), 0, w - 1).astype(int)
    rows0, rows1 = y0i[:, :, None], y1i[:, :, None]
    cols0, cols1 = x0i[:, None, :], x1i[:, None, :]
    top = img[rows0, cols0] + (img[rows0, cols1] - img[rows0, cols0]) * lx
    bottom = img[rows1, cols0] + (img[rows1, cols1] - img[rows1, cols0]) * lx
    out = top + (bottom - top) * ly
    inside = ((ys >= 0) & (ys <= h - 1))[:, :, None] & ((xs >= 0) & (xs <= w - 1))[:, None, :]
    return np.ascontiguousarray(np.where(inside[..., None], out, 0), dtype=np.float32)
