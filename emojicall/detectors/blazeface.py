"""BlazeFace, MediaPipe's face detector (Apache-2.0, models/blazeface/SOURCE.md), run through LiteRT: no
TensorFlow import, and six keypoints per face.

The post-processing follows MediaPipe's face_detection_{short,full}_range_common.pbtxt: SSD anchors as
SsdAnchorsCalculator makes them (fixed size, one grid per stride), boxes and keypoints decoded relative to
them (TensorsToDetectionsCalculator), sigmoid scores, and weighted NMS (NonMaxSuppressionCalculator's
WEIGHTED: overlapping boxes are averaged by score, the best one's score is kept). Frames are letterboxed to
the model's square input, so a 16:9 frame is not squashed.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..errors import UserError
from ..face import Face
from ..paths import models_root
from ..quiet import native_stderr_silenced
from ..tfquiet import litert_interpreter
from .base import Detector

# name -> (file, input size, anchor strides, two anchors per cell (interpolated_scale_aspect_ratio 1.0)?)
MODELS = {
    "short": ("face_detection_short_range.tflite", 128, (8, 16, 16, 16), True),
    "full": ("face_detection_full_range.tflite", 192, (4,), False),
}
MIN_SCORE = 0.5  # MediaPipe's min_detection_confidence default
# MediaPipe's keypoint order is the subject's right eye, left eye, ...; the subject's right eye is the one
# on the image's left, which is what MTCNN calls 'left_eye' (checked on a real photo in the tests).
KEYPOINTS = ("left_eye", "right_eye", "nose", "mouth", "left_ear", "right_ear")
NMS_IOU = 0.3  # MediaPipe's min_suppression_threshold for both models


def ssd_anchors(size: int, strides: tuple[int, ...], two_per_cell: bool) -> np.ndarray:
    """(N, 2) anchor centres in 0..1, in the order the model's outputs use. Layers sharing a stride share one
    grid with their anchors side by side; each layer has aspect ratio 1.0 plus, when the interpolated scale
    aspect ratio is 1.0, one more; fixed_anchor_size makes every anchor 1 x 1, so only centres matter."""
    out, i = [], 0
    while i < len(strides):
        j, per_cell = i, 0
        while j < len(strides) and strides[j] == strides[i]:
            per_cell += 2 if two_per_cell else 1
            j += 1
        cells = -(-size // strides[i])
        centres = (np.arange(cells, dtype=np.float32) + 0.5) / cells
        yy, xx = np.meshgrid(centres, centres, indexing="ij")
        grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
        out.append(np.repeat(grid, per_cell, axis=0))
        i = j
    return np.concatenate(out)


def weighted_nms(boxes: np.ndarray, points: np.ndarray, scores: np.ndarray, thr: float = NMS_IOU):
    """boxes (N, 4) as x0, y0, x1, y1; points (N, K, 2). Returns merged (boxes, points, scores)."""
    order = np.argsort(-scores)
    boxes, points, scores = boxes[order], points[order], scores[order]
    areas = np.maximum(0, boxes[:, 2] - boxes[:, 0]) * np.maximum(0, boxes[:, 3] - boxes[:, 1])
    left = np.arange(len(scores))
    kept_b, kept_p, kept_s = [], [], []
    while len(left):
        top = left[0]
        iw = np.clip(np.minimum(boxes[top, 2], boxes[left, 2]) - np.maximum(boxes[top, 0], boxes[left, 0]), 0, None)
        ih = np.clip(np.minimum(boxes[top, 3], boxes[left, 3]) - np.maximum(boxes[top, 1], boxes[left, 1]), 0, None)
        inter = iw * ih
        overlap = inter / np.maximum(areas[top] + areas[left] - inter, 1e-9)
        group = left[overlap > thr]
        w = scores[group] / scores[group].sum()
        kept_b.append(w @ boxes[group])
        kept_p.append(np.tensordot(w, points[group], axes=1))
        kept_s.append(scores[top])
        left = left[overlap <= thr]
    if not kept_s:
        return np.zeros((0, 4), np.float32), np.zeros((0, points.shape[1], 2), np.float32), np.zeros(0, np.float32)
    return np.array(kept_b), np.array(kept_p), np.array(kept_s)


class BlazeFaceDetector(Detector):
    name = "blazeface"

    # max_width 0: the model sees at most 128 (192) px, so the base class's 640 px copy would be a wasted pass;
    # the letterbox resize reads the full frame once.
    def __init__(self, model: str = "full", min_score: float = MIN_SCORE, max_width: int = 0,
                 num_threads: int = 1, model_dir: str | Path | None = None):
        super().__init__(max_width)
        if model not in MODELS:
            raise UserError(f"unknown BlazeFace model '{model}'", f"use one of {', '.join(MODELS)}")
        file, self.size, strides, two_per_cell = MODELS[model]
        self.model, self.min_score = model, min_score
        path = Path(model_dir or models_root() / "blazeface") / file
        if not path.is_file():
            raise UserError(f"BlazeFace model {path} is missing", "reinstall EmojiCall (`pip install .`)")
        Interpreter = litert_interpreter()
        try:
            with native_stderr_silenced():  # LiteRT prints an INFO line to fd 2 when it creates XNNPACK
                self._it = Interpreter(model_path=str(path), num_threads=num_threads)
                self._it.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise UserError(f"cannot load BlazeFace model {path} ({str(exc).splitlines()[0]})",
                            "reinstall EmojiCall (`pip install .`)") from None
        self._in = self._it.get_input_details()[0]["index"]
        outs = self._it.get_output_details()
        # regressors (16 values per anchor) and scores (1): told apart by shape, since names differ per file
        self._reg = next(d["index"] for d in outs if d["shape"][-1] == 16)
        self._cls = next(d["index"] for d in outs if d["shape"][-1] == 1)
        self.anchors = ssd_anchors(self.size, strides, two_per_cell)
        self._canvas = np.zeros((self.size, self.size, 3), np.uint8)

    def _letterbox(self, frame: np.ndarray):
        h, w = frame.shape[:2]
        s = self.size / max(h, w)
        nw, nh = max(1, round(w * s)), max(1, round(h * s))
        px, py = (self.size - nw) // 2, (self.size - nh) // 2
        self._canvas[:] = 0  # black borders, as MediaPipe's ImageToTensor BORDER_ZERO
        interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
        self._canvas[py:py + nh, px:px + nw] = cv2.resize(frame, (nw, nh), interpolation=interp)
        rgb = cv2.cvtColor(self._canvas, cv2.COLOR_BGR2RGB)
        tensor = rgb.astype(np.float32)[None] * (2 / 255) - 1
        # model pixels -> frame pixels: x_frame = (x_model - px) * w / nw
        return tensor, (px, py, w / nw, h / nh)

    def decode(self, tensor: np.ndarray):
        """One (1, S, S, 3) tensor in -1..1 -> boxes (x0, y0, x1, y1), keypoints and scores in 0..1 of it."""
        self._it.set_tensor(self._in, tensor)
        self._it.invoke()
        logits = self._it.get_tensor(self._cls)[0, :, 0]
        keep = np.flatnonzero(logits > np.log(self.min_score / (1 - self.min_score)))
        raw = self._it.get_tensor(self._reg)[0, keep].reshape(-1, 8, 2) / self.size
        anchors = self.anchors[keep][:, None, :]
        centre, half = raw[:, 0] + anchors[:, 0], raw[:, 1] / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1)
        points = raw[:, 2:] + anchors
        scores = 1 / (1 + np.exp(-np.clip(logits[keep], -100, 100)))
        valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        return weighted_nms(boxes[valid], points[valid], scores[valid])

    def _detect(self, frame: np.ndarray) -> list[Face]:
        tensor, (px, py, fx, fy) = self._letterbox(frame)
        boxes, points, scores = self.decode(tensor)
        to_x = lambda v: (v * self.size - px) * fx  # noqa: E731
        to_y = lambda v: (v * self.size - py) * fy  # noqa: E731
        faces = []
        for b, p, s in zip(boxes, points, scores):
            x0, y0, x1, y1 = to_x(b[0]), to_y(b[1]), to_x(b[2]), to_y(b[3])
            marks = {k: (int(round(to_x(q[0]))), int(round(to_y(q[1])))) for k, q in zip(KEYPOINTS, p)}
            faces.append(Face(box=(int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0))),
                              score=float(s), landmarks=marks))
        return faces
