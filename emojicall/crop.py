"""Face crops framed as FER-2013 frames its faces, whatever detector made the box: gray, square, model-sized.

Each detector puts its box somewhere else on a face (Haar's is loose, MTCNN's tight and low, BlazeFace's
tighter still). `Framing` holds, per detector, where the FER-2013 frame lies relative to that detector's box
(centre offset as fractions of the box, side as a multiple of the box's longer side), measured by running the
detector on upscaled FER-2013 training faces (emojicall/training/calibrate.py; models/<model>/crop.json).
Where the detector gives eye landmarks, the crop is also rotated so the eye line is level (FER faces are
upright). Only the face's region of the frame is converted to gray and resampled: the cost does not grow with
the frame, and a 400 px face is reduced once (INTER_AREA) before one warpAffine to the model's size.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

MARGIN = 0.1  # the uncalibrated rule (any detector): the box's square plus 10% a side
CALIBRATION = "crop.json"
MAX_TILT_DEG = 45.0  # eye lines steeper than this are landmark errors, not heads


@dataclass(frozen=True)
class Framing:
    dx: float = 0.0                 # FER frame centre minus box centre, in box widths
    dy: float = 0.0                 # ... in box heights
    scale: float = 1 + 2 * MARGIN   # FER frame side / the box's longer side
    align: bool = False             # rotate by the eye line where the face has eye landmarks


UNCALIBRATED = Framing()


def load_framings(model_dir: Path) -> dict[str, Framing]:
    """Detector name -> Framing from a model folder's crop.json; {} when it has none (every detector then
    gets the uncalibrated rule). A broken file is a user error naming it."""
    path = Path(model_dir) / CALIBRATION
    if not path.is_file():
        return {}
    from .errors import UserError

    try:
        data = json.loads(path.read_text())["detectors"]
        return {name: Framing(**{k: v for k, v in d.items() if k in Framing.__dataclass_fields__})
                for name, d in data.items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"cannot read {path} ({exc}): re-run `python -m emojicall.training.calibrate` "
                        "or delete it") from None


def framing_dict(f: Framing) -> dict:
    return asdict(f)


def square_box(box: tuple[int, int, int, int], margin: float = MARGIN) -> tuple[int, int, int]:
    """(x0, y0, side) of the square, centred on the box, that the uncalibrated crop takes; may reach past the frame."""
    x, y, w, h = box
    side = max(2, int(round(max(w, h) * (1 + 2 * margin))))
    cx, cy = x + w / 2, y + h / 2
    return int(round(cx - side / 2)), int(round(cy - side / 2)), side


def fer_square(box, framing: Framing = UNCALIBRATED) -> tuple[float, float, float]:
    """(cx, cy, side) in frame pixels of the FER-equivalent square for a detector box."""
    x, y, w, h = box
    return x + w / 2 + framing.dx * w, y + h / 2 + framing.dy * h, max(2.0, framing.scale * max(w, h))


def eye_angle(landmarks: dict | None) -> float:
    """Tilt of the eye line in radians (image y down), 0 without both eyes or when implausibly steep."""
    if not landmarks or "left_eye" not in landmarks or "right_eye" not in landmarks:
        return 0.0
    (lx, ly), (rx, ry) = landmarks["left_eye"], landmarks["right_eye"]
    if rx <= lx:  # the image-left eye must be left of the other: anything else is a bad detection
        return 0.0
    a = math.atan2(ry - ly, rx - lx)
    return a if abs(a) <= math.radians(MAX_TILT_DEG) else 0.0


def crop_square(frame: np.ndarray, cx: float, cy: float, side: float, size: int, angle: float = 0.0) -> np.ndarray:
    """A size x size uint8 gray crop of the square (centre, side) rotated by `angle`; outside the frame the
    edge is replicated. Reads and converts only the square's region of the frame."""
    h, w = frame.shape[:2]
    half = side / 2 * (abs(math.cos(angle)) + abs(math.sin(angle)))  # the rotated square's bounding half-side
    x0, y0 = int(math.floor(cx - half)), int(math.floor(cy - half))
    x1, y1 = int(math.ceil(cx + half)) + 1, int(math.ceil(cy + half)) + 1
    # A big face is reduced with INTER_AREA (warpAffine's bilinear would alias) to ~2 px per output pixel, in two
    # steps: first by a whole factor n, OpenCV's fast path, for which the ROI is widened to a multiple of n; then
    # by what is left. A 440 px face takes 0.09 ms instead of 0.53 for one step by a fraction.
    n = max(1, int(side // (2 * size)))
    x1, y1 = x0 + -(-(x1 - x0) // n) * n, y0 + -(-(y1 - y0) // n) * n
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if sx1 <= sx0 or sy1 <= sy0:
        return np.zeros((size, size), np.uint8)
    roi = to_gray(frame[sy0:sy1, sx0:sx1])
    pad = (sy0 - y0, y1 - sy1, sx0 - x0, x1 - sx1)
    if any(pad):
        roi = cv2.copyMakeBorder(roi, *pad, borderType=cv2.BORDER_REPLICATE)
    k = 1.0
    if n > 1:
        roi = cv2.resize(roi, (roi.shape[1] // n, roi.shape[0] // n), interpolation=cv2.INTER_AREA)
    if side > 2 * size:
        k = 2 * size * n / side
        if k < 1:
            roi = cv2.resize(roi, (max(1, round(roi.shape[1] * k)), max(1, round(roi.shape[0] * k))),
                             interpolation=cv2.INTER_AREA)
        k = roi.shape[1] / (x1 - x0)
    # Output pixel centre (u, v) maps to ROI point centre + R(angle) * ((u, v) - c_out) * side / size.
    s = side * k / size
    c, sn = math.cos(angle) * s, math.sin(angle) * s
    ccx, ccy = (cx - x0) * k, (cy - y0) * k
    c_out = size / 2
    # ROI coordinates: pixel centres sit at integer + 0.5 in continuous coordinates; OpenCV samples at integers.
    m = np.array([[c, -sn, ccx - 0.5 - (c * c_out - sn * c_out) + (c - sn) * 0.5],
                  [sn, c, ccy - 0.5 - (sn * c_out + c * c_out) + (sn + c) * 0.5]], np.float64)
    return cv2.warpAffine(roi, m, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def crop_face(gray: np.ndarray, box: tuple[int, int, int, int], size: int, margin: float = MARGIN) -> np.ndarray:
    """The uncalibrated crop (box's square + margin) as a size x size uint8 image."""
    x0, y0, side = square_box(box, margin)
    return crop_square(gray, x0 + side / 2, y0 + side / 2, side, size)


def to_gray(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return frame
    if frame.shape[2] == 1:
        return frame[..., 0]
    code = cv2.COLOR_BGRA2GRAY if frame.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(frame, code)


def crop_batch(frame: np.ndarray, boxes, size: int, margin: float = MARGIN, framing: Framing | None = None,
               landmarks: list | None = None) -> np.ndarray:
    """All faces of one frame as one (N, size, size, 1) float32 batch in 0..255, ready for the classifier.
    framing: the detector's calibration (None: the uncalibrated rule with `margin`); landmarks: per face, for
    eye alignment when the framing asks for it."""
    if framing is None:
        framing = Framing(scale=1 + 2 * margin)
    out = np.empty((len(boxes), size, size, 1), np.float32)
    for i, box in enumerate(boxes):
        angle = eye_angle(landmarks[i]) if framing.align and landmarks else 0.0
        out[i, ..., 0] = crop_square(frame, *fer_square(box, framing), size, angle)
    return out
