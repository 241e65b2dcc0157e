"""Frame helpers shared by every stage: the record a source hands the frame loop, colour normalisation, and the
one resize policy (letterbox) used wherever a frame must take a fixed size."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

CAMERA, CARD = "camera", "card"


@dataclass
class Frame:
    """What a source hands the loop. `kind` CARD: a message card (or a frame held while the camera is away):
    sent as it is, no faces are looked for, and tracks from before must not draw on it."""
    image: np.ndarray
    kind: str = CAMERA
    own: bool = False  # the source keeps no reference to image: the loop may draw on it without a copy


def as_bgr(frame: np.ndarray) -> np.ndarray:
    """Accept gray, BGR and BGRA frames alike: cameras and image folders produce all three."""
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    if frame.shape[2] == 1:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    return frame


def fit(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale into `size` = (width, height) keeping the aspect ratio, black bars on the short side: a virtual
    camera or a video file has one fixed format for the whole call, and a stretched face looks wrong."""
    h, w = frame.shape[:2]
    if (w, h) == tuple(size):
        return frame
    scale = min(size[0] / w, size[1] / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    small = frame if (nw, nh) == (w, h) else \
        cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    out = np.zeros((size[1], size[0], *frame.shape[2:]), np.uint8)
    x, y = (size[0] - nw) // 2, (size[1] - nh) // 2
    out[y:y + nh, x:x + nw] = small
    return out
