"""Face crops as the FER-2013 images were made: square around the face with a small margin, gray, 48x48."""
from __future__ import annotations

import cv2
import numpy as np

MARGIN = 0.1  # FER-2013 faces fill the image with a thin border; Haar/MTCNN boxes are tighter


def square_box(box: tuple[int, int, int, int], margin: float = MARGIN) -> tuple[int, int, int]:
    """(x0, y0, side) of the square, centred on the box, that the crop takes; may reach past the frame."""
    x, y, w, h = box
    side = max(2, int(round(max(w, h) * (1 + 2 * margin))))
    cx, cy = x + w / 2, y + h / 2
    return int(round(cx - side / 2)), int(round(cy - side / 2)), side


def crop_face(gray: np.ndarray, box: tuple[int, int, int, int], size: int, margin: float = MARGIN) -> np.ndarray:
    """A size x size uint8 crop; parts outside the frame are filled by replicating the edge."""
    x0, y0, side = square_box(box, margin)
    h, w = gray.shape[:2]
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x0 + side), min(h, y0 + side)
    if sx1 <= sx0 or sy1 <= sy0:
        return np.zeros((size, size), np.uint8)
    patch = gray[sy0:sy1, sx0:sx1]
    pad = (sy0 - y0, y0 + side - sy1, sx0 - x0, x0 + side - sx1)
    if any(pad):
        patch = cv2.copyMakeBorder(patch, *pad, borderType=cv2.BORDER_REPLICATE)
    interp = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(patch, (size, size), interpolation=interp)


def to_gray(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return frame
    if frame.shape[2] == 1:
        return frame[..., 0]
    code = cv2.COLOR_BGRA2GRAY if frame.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(frame, code)


def crop_batch(frame: np.ndarray, boxes, size: int, margin: float = MARGIN) -> np.ndarray:
    """All faces of one frame as one (N, size, size, 1) float32 batch in 0..255, ready for the classifier."""
    gray = to_gray(frame)
    out = np.empty((len(boxes), size, size, 1), np.float32)
    for i, box in enumerate(boxes):
        out[i, ..., 0] = crop_face(gray, box, size, margin)
    return out
