"""Draws each face's emoji on the frame: over the face, as a badge beside it, or as a text label."""
from __future__ import annotations

import cv2
import numpy as np

from .emojis import EmojiPack
from .face import Face

STYLES = ("emoji", "badge", "label")


def blend(frame: np.ndarray, bgra: np.ndarray, x: int, y: int) -> None:
    """Alpha-blend a BGRA image onto a BGR frame in place with its top-left at (x, y); clipped at the edges."""
    h, w = bgra.shape[:2]
    fh, fw = frame.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(fw, x + w), min(fh, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    src = bgra[y0 - y:y1 - y, x0 - x:x1 - x]
    alpha = src[..., 3:4].astype(np.float32) * (1 / 255.0)
    roi = frame[y0:y1, x0:x1]
    roi[:] = (src[..., :3] * alpha + roi * (1 - alpha)).astype(np.uint8)


class Compositor:
    def __init__(self, pack: EmojiPack, style: str = "emoji", show_label: bool = False, scale: float = 1.25):
        if style not in STYLES:
            from .errors import UserError

            raise UserError(f"unknown style '{style}': use one of {', '.join(STYLES)}")
        self.pack, self.style, self.show_label, self.scale = pack, style, show_label, scale

    def draw(self, frame: np.ndarray, faces: list[Face]) -> np.ndarray:
        """The frame with every classified face decorated (drawn in place and returned)."""
        for face in faces:
            label = face.label
            if label is None:
                continue
            x, y, w, h = face.box
            if self.style == "emoji":
                # A bit larger than the box: detector boxes stop at the brow and chin, emoji art has a margin.
                side = int(max(w, h) * self.scale)
                blend(frame, self.pack.get(label, side), x + w // 2 - side // 2, y + h // 2 - side // 2)
            elif self.style == "badge":
                side = max(16, int(max(w, h) * 0.45))
                blend(frame, self.pack.get(label, side), x + w - side // 2, y - side // 2)
            if self.style == "label" or self.show_label:
                _text(frame, label, x, y)
        return frame


def _text(frame: np.ndarray, text: str, x: int, y: int) -> None:
    scale = max(0.5, frame.shape[0] / 720)
    thick = max(1, int(round(2 * scale)))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    ty = max(th + base, y - 6)
    cv2.rectangle(frame, (x, ty - th - base), (x + tw + 4, ty + base // 2), (0, 0, 0), -1)
    cv2.putText(frame, text, (x + 2, ty - base // 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick,
                cv2.LINE_AA)
