"""Gives faces stable ids across frames and moves their boxes between detections, so the detector can run
on only every Nth frame (or on a thread of its own) while the emoji follows the face on every frame."""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .face import Face, clip_box, iou

# Optical flow runs on a gray copy this wide, with up to MAX_POINTS points a face and 2 pyramid levels: on 150
# frames of three real clips (flow carrying the boxes 14 frames between MTCNN detections, against MTCNN on every
# frame) the centre is off by 1.0-1.4% of the face's side at the median with 20 points and 2 levels, as with 40
# and 3. Not narrower than 320 px: at 160 or 240 px the two ~40 px faces of a 480x270 clip lost their flow on
# a head turn and came back under a new id (tests/test_report.py).
FLOW_WIDTH = 320
MAX_POINTS = 20


def _associate(boxes: dict[int, tuple], faces: list[Face], min_iou: float) -> dict[int, int]:
    """Greedy best-overlap matching: face index -> track id."""
    pairs = sorted(((iou(box, f.box), tid, i) for tid, box in boxes.items() for i, f in enumerate(faces)),
                   reverse=True)
    used, out = set(), {}
    for overlap, tid, i in pairs:
        if overlap < min_iou:
            break
        if tid not in used and i not in out:
            out[i] = tid
            used.add(tid)
    return out


@dataclass
class _Track:
    id: int
    box: np.ndarray                   # x, y, w, h as floats, full-frame pixels
    face: Face                        # last detection (score, landmarks)
    hits: int = 1                     # detections that confirmed it
    missed: int = 0                   # detections in a row that did not find it
    pts: np.ndarray | None = field(default=None, repr=False)  # flow points, small-gray pixels
    seeded: int = 0                   # flow points it had after the last detection
    lost: bool = False                # its flow failed since the last detection


class FlowTracker:
    """Detections fix the boxes; between them each box follows the median Lucas-Kanade motion (and scale) of
    corner points inside it. A track that a detection misses coasts on flow for `max_missed` detections if it
    was confirmed at least twice; an unconfirmed one (a one-off false positive) is dropped at once."""

    def __init__(self, min_iou: float = 0.3, max_missed: int = 2, width: int = FLOW_WIDTH,
                 max_points: int = MAX_POINTS):
        self.min_iou, self.max_missed, self.width, self.max_points = min_iou, max_missed, width, max_points
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._gray: np.ndarray | None = None
        self._scale = 1.0
        self._size = (0, 0)

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        """The small gray copy that flow runs on; pass it to predict() and, for async detections, keep it."""
        h, w = frame.shape[:2]
        scale = min(1.0, self.width / w)
        size = (int(round(w * scale)), int(round(h * scale)))
        if scale < 0.5:  # a linear shrink to twice the size first: 1080p in 0.23 ms, not 1.55 (gray + area)
            frame = cv2.resize(frame, (2 * size[0], 2 * size[1]), interpolation=cv2.INTER_LINEAR)
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        if scale < 1.0:
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        self._next_scale, self._next_size = scale, (w, h)
        return gray

    def predict(self, gray: np.ndarray) -> None:
        """Move every track from the previous frame to this one (the gray from prepare())."""
        if self._gray is not None and self._gray.shape == gray.shape:
            for t in self._tracks:
                if t.pts is not None and len(t.pts) >= 4:
                    t.box, t.pts = _flow_box(self._gray, gray, t.box, t.pts, self._scale)
                    t.lost = t.pts is None or len(t.pts) < 4
        elif self._gray is not None:  # the camera changed resolution: boxes no longer mean anything
            self._tracks.clear()
        self._gray, self._scale, self._size = gray, self._next_scale, self._next_size

    def update(self, detections: list[Face], det_gray: np.ndarray | None = None) -> None:
        """Correct the tracks with a detection made on this frame, or on an earlier one whose small gray is
        det_gray (async detection): those boxes are first carried forward to this frame by flow."""
        if det_gray is not None and self._gray is not None and det_gray is not self._gray \
                and det_gray.shape == self._gray.shape:
            for d in detections:
                box = np.array(d.box, np.float64)
                pts = _seed(det_gray, box, self._scale, self.max_points)
                if pts is not None and len(pts) >= 4:
                    box, _ = _flow_box(det_gray, self._gray, box, pts, self._scale)
                d.box = self._clip(box) or d.box
        matched = _associate({t.id: tuple(t.box) for t in self._tracks}, detections, self.min_iou)
        by_id = {t.id: t for t in self._tracks}
        for i, tid in matched.items():
            t = by_id[tid]
            t.box, t.face, t.hits, t.missed = np.array(detections[i].box, np.float64), detections[i], t.hits + 1, 0
        kept = []
        for t in self._tracks:
            if t.id not in matched.values():
                t.missed += 1
                if t.hits < 2 or t.missed > self.max_missed:
                    continue
            kept.append(t)
        for i, d in enumerate(detections):
            if i not in matched:
                kept.append(_Track(self._next_id, np.array(d.box, np.float64), d))
                self._next_id += 1
        self._tracks = kept
        if self._gray is not None:
            for t in self._tracks:
                t.pts = _seed(self._gray, t.box, self._scale, self.max_points)
                t.seeded, t.lost = 0 if t.pts is None else len(t.pts), False

    def faces(self) -> list[Face]:
        """Fresh Face records for the current tracks (boxes clipped to the frame)."""
        out = []
        for t in self._tracks:
            box = self._clip(t.box)
            if box is None:
                continue
            dx, dy = box[0] - t.face.box[0], box[1] - t.face.box[1]
            marks = {k: (px + dx, py + dy) for k, (px, py) in t.face.landmarks.items()}
            out.append(Face(box=box, score=t.face.score, landmarks=marks, track_id=t.id))
        return out

    def _clip(self, box) -> tuple[int, int, int, int] | None:
        return clip_box(*box, *self._size) if self._size[0] else tuple(int(round(v)) for v in box)

    @property
    def active_ids(self) -> set[int]:
        return {t.id for t in self._tracks}

    @property
    def boxes(self) -> list[tuple[float, float, float, float]]:
        return [tuple(t.box) for t in self._tracks]

    @property
    def steady(self) -> bool:
        """Every track confirmed, found by the last detection and still holding half its flow points."""
        return bool(self._tracks) and all(t.hits >= 2 and t.missed == 0 and t.pts is not None
                                          and len(t.pts) >= max(4, t.seeded // 2) for t in self._tracks)

    @property
    def lost(self) -> bool:
        """A track's flow failed since the last detection: its box no longer follows the face."""
        return any(t.lost for t in self._tracks)

    def reset(self, new_ids: bool = False) -> None:
        """No tracks; with `new_ids` ids start from 1 again (only where nothing else remembers the old ones)."""
        self._tracks.clear()
        self._gray = None
        if new_ids:
            self._next_id = 1


def _seed(gray: np.ndarray, box: np.ndarray, scale: float, max_points: int) -> np.ndarray | None:
    """Corner points inside the middle of the box (edges are background more often than face)."""
    x, y, w, h = (np.asarray(box) * scale)
    mask = np.zeros(gray.shape, np.uint8)
    x0, y0 = int(max(0, x + 0.15 * w)), int(max(0, y + 0.1 * h))
    x1, y1 = int(min(gray.shape[1], x + 0.85 * w)), int(min(gray.shape[0], y + 0.9 * h))
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    mask[y0:y1, x0:x1] = 255
    pts = cv2.goodFeaturesToTrack(gray, max_points, 0.01, max(2.0, min(w, h) / 10), mask=mask, blockSize=3)
    return pts.astype(np.float32) if pts is not None else None


# An 11 px window (was 15): boxes carried 14 frames by flow land as close to MTCNN's on four real clips (median
# 1.60% of the face's side against 1.64%) for three quarters of the flow CPU (0.36 against 0.49 ms a frame;
# bench/flow_error.md), and the real-video frame share over 10 starting phases is the same (0.706). One forward
# pass keeping the points within 1.5-3 px of the median motion and scale, instead of the backward check, cost
# half the CPU but 0.3-0.7 points of that frame share (docs/realtime.md).
_LK = dict(winSize=(11, 11), maxLevel=2, criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03))


def _flow_box(prev, cur, box, pts, scale):
    """The box moved by the median point motion and scaled by the median change of spread; points that fail
    the forward-backward check are dropped (they sat on background or got occluded)."""
    nxt, st, _ = cv2.calcOpticalFlowPyrLK(prev, cur, pts, None, **_LK)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(cur, prev, nxt, None, **_LK)
    good = (st.ravel() == 1) & (st2.ravel() == 1) & (np.linalg.norm((back - pts).reshape(-1, 2), axis=1) < 1.0)
    if good.sum() < 4:
        return box, pts[good] if good.any() else None
    p0, p1 = pts[good].reshape(-1, 2), nxt[good].reshape(-1, 2)
    shift = np.median(p1 - p0, axis=0) / scale
    d0 = np.linalg.norm(p0 - np.median(p0, axis=0), axis=1)
    d1 = np.linalg.norm(p1 - np.median(p1, axis=0), axis=1)
    ok = d0 > 1.0
    s = float(np.clip(np.median(d1[ok] / d0[ok]), 0.8, 1.25)) if ok.sum() >= 4 else 1.0
    x, y, w, h = box
    cx, cy = x + w / 2 + shift[0], y + h / 2 + shift[1]
    return np.array([cx - w * s / 2, cy - h * s / 2, w * s, h * s]), p1.reshape(-1, 1, 2).astype(np.float32)
