"""Draws each face's emoji on the frame: over the face, as a badge beside it, or as a text label.

Per track id the compositor keeps the emoji's state: position, size and roll angle smoothed with a One Euro
filter (emojicall.motion), a cross-fade when the label changes, a fade-in for a new face, and a hold then a
fade-out for a face that is lost. Time comes from draw()'s `t` (seconds, e.g. frame timestamps) or, without
it, a frame counter at 30 fps: the same frames always give the same output."""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .emojis import ANGLE_STEP, SIDE_RATIO, EmojiPack, Sprite, snap_angle, snap_side
from .face import Face, iou
from .motion import OneEuro
from .settings import STYLES

FRAME_DT = 1 / 30
FADE_S = 0.1        # fade in / out: 3 frames at 30 fps
CROSSFADE_S = 0.15  # label change
HOLD_S = 0.3        # a lost face keeps its emoji this long before fading out
# One Euro settings from bench/motion.py (bench/motion.md): position and size in face sides, angle in degrees.
POS_FILTER = dict(min_cutoff=1.0, beta=3.0, d_cutoff=1.0)
ANGLE_FILTER = dict(min_cutoff=0.5, beta=0.05, d_cutoff=1.0)


def blend(frame: np.ndarray, sprite: Sprite | np.ndarray, x: int, y: int, opacity: float = 1.0) -> None:
    """Alpha-blend a sprite (or a straight-alpha BGRA image) onto a BGR frame in place with its top-left at
    (x, y); clipped at the edges. Opaque pixels are copied, only the rim's partial-alpha pixels need math."""
    if not isinstance(sprite, Sprite):
        sprite = Sprite.from_bgra(sprite)
    bh, bw = sprite.alpha.shape
    fh, fw = frame.shape[:2]
    x, y = x + sprite.ox, y + sprite.oy
    x0, y0, x1, y1 = max(0, x), max(0, y), min(fw, x + bw), min(fh, y + bh)
    if x1 <= x0 or y1 <= y0 or opacity <= 0:
        return
    sx, sy = slice(x0 - x, x1 - x), slice(y0 - y, y1 - y)
    roi = frame[y0:y1, x0:x1]
    if opacity < 1:
        _blend_faded(roi, sprite.bgr[sy, sx], sprite.alpha[sy, sx], opacity)
        return
    ys, xs, sa, inv = sprite.ys, sprite.xs, sprite.sa, sprite.inv
    if (x1 - x0, y1 - y0) != (bw, bh):  # clipped: only the rim pixels inside the frame
        keep = (ys >= y0 - y) & (ys < y1 - y) & (xs >= x0 - x) & (xs < x1 - x)
        ys, xs, sa, inv = ys[keep], xs[keep], sa[keep], inv[keep]
    fy, fx = ys + (y - y0), xs + (x - x0)
    rim = roi[fy, fx]  # read before the copy below covers it
    cv2.copyTo(sprite.bgr[sy, sx], sprite.alpha[sy, sx], roi)
    roi[fy, fx] = (sa + rim * inv + 127) // 255


def _blend_faded(roi: np.ndarray, bgr: np.ndarray, alpha: np.ndarray, opacity: float) -> None:
    """out = premultiplied colour x opacity + frame x (1 - alpha x opacity), in uint8 with OpenCV; used only on
    the few frames of a fade, where every non-transparent pixel needs math."""
    inv = cv2.convertScaleAbs(alpha, alpha=-opacity, beta=255.0)
    under = cv2.multiply(roi, cv2.merge((inv, inv, inv)), scale=1 / 255)
    cv2.add(cv2.convertScaleAbs(bgr, alpha=opacity), under, dst=roi)


@dataclass
class Placement:
    """One emoji as drawn: centre, side before snapping, angle, label and opacity."""
    track_id: int | None
    label: str
    cx: float
    cy: float
    side: float
    angle: float
    opacity: float


class _Track:
    def __init__(self, label: str):
        self.pos = OneEuro(**POS_FILTER)       # cx, cy, side in units of `unit`, the first side seen
        self.unit = 0.0
        self.turn = OneEuro(**ANGLE_FILTER)
        self.label, self.prev_label, self.mix = label, None, 1.0
        self.opacity, self.seen = 0.0, 0.0
        self.box = (0, 0, 0, 0)
        self.state = (0.0, 0.0, 0.0, 0.0)     # smoothed cx, cy, box side, angle
        self.side_step = self.angle_step = None


def roll_degrees(face: Face) -> float | None:
    """The head's roll from the eye line (image y points down: positive when the eye on the right is lower);
    None without both eyes (Haar gives no landmarks)."""
    marks = face.landmarks
    if "left_eye" not in marks or "right_eye" not in marks:
        return None
    (ax, ay), (bx, by) = sorted((marks["left_eye"], marks["right_eye"]))  # left to right in the image
    if bx - ax <= 0:
        return None
    return math.degrees(math.atan2(by - ay, bx - ax))


class Compositor:
    def __init__(self, pack: EmojiPack, style: str = "emoji", show_label: bool = False, scale: float = 1.25):
        if style not in STYLES:
            from .errors import UserError

            raise UserError(f"unknown style '{style}': use one of {', '.join(STYLES)}")
        self.pack, self.style, self.show_label, self.scale = pack, style, show_label, scale
        self.reset()

    def reset(self) -> None:
        """No emoji on screen and no fades in progress: a new clip or camera starts clean."""
        self.placements: list[Placement] = []   # what the last draw() drew
        self._tracks: dict[int, _Track] = {}
        self._t: float | None = None
        self._frames = 0

    @property
    def drawing(self) -> bool:
        """Emojis are still on screen (a lost face's is held, then fades) even if no face is given."""
        return bool(self._tracks)

    def draw(self, frame: np.ndarray, faces: list[Face], t: float | None = None) -> np.ndarray:
        """The frame with every classified face decorated (drawn in place and returned). `t`: this frame's time
        in seconds; without it frames are taken to be 1/30 s apart."""
        if t is None:
            t = self._frames * FRAME_DT
        self._frames += 1
        dt = FRAME_DT if self._t is None or not 0 < t - self._t < 5 else t - self._t
        self._t = t
        self.placements = []
        seen, current = set(), {f.track_id for f in faces if f.label is not None}
        for face in faces:
            label = face.label
            if label is None:
                continue
            if face.track_id is None:  # no identity across frames: drawn as it is, no smoothing or fades
                x, y, w, h = face.box
                angle = roll_degrees(face) or 0.0
                self.placements.append(Placement(None, label, x + w / 2, y + h / 2, max(w, h), angle, 1.0))
                self._place(frame, label, x + w / 2, y + h / 2, max(w, h), angle, 1.0, None)
                continue
            track = self._track_for(face, label, current)
            self._update(track, face, label, t, dt)
            seen.add(face.track_id)
        for tid in sorted(self._tracks):
            track = self._tracks[tid]
            if tid not in seen:
                if t - track.seen > HOLD_S:
                    track.opacity -= dt / FADE_S
                if track.opacity <= 1e-6:
                    del self._tracks[tid]
                    continue
            self._draw_track(frame, tid, track)
        return frame

    def _track_for(self, face: Face, label: str, current: set) -> _Track:
        track = self._tracks.get(face.track_id)
        if track is None:
            # A face re-found under a new id where a held one was lost: the same emoji, no blink.
            lost = [(iou(tr.box, face.box), tid) for tid, tr in self._tracks.items() if tid not in current]
            best = max(lost, default=(0.0, None))
            track = self._tracks.pop(best[1]) if best[0] >= 0.3 else _Track(label)
            self._tracks[face.track_id] = track
        return track

    def _update(self, track: _Track, face: Face, label: str, t: float, dt: float) -> None:
        x, y, w, h = face.box
        side = float(max(w, h, 1))
        track.unit = track.unit or side  # filtered in face sides: the same settings suit any face size
        cx, cy, s = track.pos(np.array([x + w / 2, y + h / 2, side]) / track.unit, dt) * track.unit
        roll = roll_degrees(face)
        angle = track.state[3] if roll is None else float(track.turn(roll, dt))
        track.state, track.box, track.seen = (cx, cy, s, angle), face.box, t
        if label != track.label:
            track.prev_label = track.label if track.mix >= 0.5 else track.prev_label
            track.label, track.mix = label, 0.0
        track.mix = _ramp(track.mix, dt / CROSSFADE_S)
        track.opacity = _ramp(track.opacity, dt / FADE_S)

    def _draw_track(self, frame: np.ndarray, tid: int, track: _Track) -> None:
        cx, cy, side, angle = track.state
        self.placements.append(Placement(tid, track.label, cx, cy, side, angle, track.opacity))
        if track.mix < 1.0 and track.prev_label is not None:  # the new emoji fades in over the old one
            self._place(frame, track.prev_label, cx, cy, side, angle, track.opacity, track)
            self._place(frame, track.label, cx, cy, side, angle, track.opacity * track.mix, track)
        else:
            self._place(frame, track.label, cx, cy, side, angle, track.opacity, track)

    def _place(self, frame, label, cx, cy, side, angle, opacity, track) -> None:
        if self.style in ("emoji", "badge"):
            if self.style == "emoji":
                # A bit larger than the box: detector boxes stop at the brow and chin, emoji art has a margin.
                want, turn = side * self.scale, angle
            else:
                want, turn = max(16.0, side * 0.45), 0.0
                cx, cy = cx + side / 2, cy - side / 2
            step = _sticky(snap_side(want), want, track and track.side_step, SIDE_RATIO)
            turn = _sticky_angle(turn, track and track.angle_step)
            if track is not None:
                track.side_step, track.angle_step = step, turn
            # The art turns the other way to cv2's counter-clockwise angle: it follows the head. Upright, the
            # two-argument call: packs written to the older get(label, size) (test doubles) keep working.
            sprite = self.pack.get(label, step, -turn) if turn else self.pack.get(label, step)
            blend(frame, sprite, int(round(cx - sprite.w / 2)), int(round(cy - sprite.h / 2)), opacity)
        if self.style == "label" or self.show_label:
            _text(frame, label, int(round(cx - side / 2)), int(round(cy - side / 2)))


def _ramp(value: float, step: float) -> float:
    value += step
    return 1.0 if value > 0.999 else value  # 3 x (1/30) / 0.1 is 0.99999...: that is fully in


def _sticky(step: int, want: float, prev: int | None, ratio: float) -> int:
    """Keep the previous size step until the wanted side is well past the boundary (no flicker between two)."""
    if prev and abs(math.log(want / prev)) < 0.75 * math.log(ratio):
        return prev
    return step


def _sticky_angle(angle: float, prev: float | None) -> float:
    if prev is not None and abs(angle - prev) < 0.75 * ANGLE_STEP:
        return prev
    return snap_angle(angle)


def _text(frame: np.ndarray, text: str, x: int, y: int) -> None:
    scale = max(0.5, frame.shape[0] / 720)
    thick = max(1, int(round(2 * scale)))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    ty = max(th + base, y - 6)
    cv2.rectangle(frame, (x, ty - th - base), (x + tw + 4, ty + base // 2), (0, 0, 0), -1)
    cv2.putText(frame, text, (x + 2, ty - base // 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick,
                cv2.LINE_AA)
