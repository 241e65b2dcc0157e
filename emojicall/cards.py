"""Full-frame message cards ("camera lost, reconnecting", "paused") sent instead of camera frames, so the
virtual camera never stops delivering frames of its size while there is nothing else to show. Every card
the app sends is made here, from the texts below."""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
BACKGROUND = (40, 32, 28)  # dark slate (BGR): reads as "not live" without looking like a broken feed
INK = (235, 235, 235)

LOST = "camera lost, reconnecting"
STARTING = "starting camera"
PAUSED = "EmojiCam is paused"
NO_CAMERA = "No camera\nEmojiCam is waiting for one"
ERROR = "EmojiCam could not make this frame\n(details in the log)"


@lru_cache(maxsize=16)
def _cached(text: str, w: int, h: int) -> np.ndarray:
    img = np.empty((h, w, 3), np.uint8)
    img[:] = BACKGROUND
    scale = max(0.35, min(w, h) / 400)
    thick = max(1, int(round(2 * scale)))
    lines = _wrap(text, scale, thick, int(w * 0.9))
    heights = [cv2.getTextSize(line, FONT, scale, thick)[0][1] for line in lines] or [0]
    gap = int(max(heights) * 0.8)
    y = (h - sum(heights) - gap * (len(lines) - 1)) // 2
    for line, lh in zip(lines, heights):
        tw = cv2.getTextSize(line, FONT, scale, thick)[0][0]
        y += lh
        cv2.putText(img, line, ((w - tw) // 2, y), FONT, scale, INK, thick, cv2.LINE_AA)
        y += gap
    img.flags.writeable = False  # shared between callers: nobody may draw on it
    return img


def card(text: str, size: tuple[int, int]) -> np.ndarray:
    """A size=(width, height) BGR image with `text` centred (lines split on '\\n', long lines wrapped); cached
    and read-only."""
    return _cached(text, max(1, int(size[0])), max(1, int(size[1])))


def _wrap(text: str, scale: float, thick: int, width: int) -> list[str]:
    lines = []
    for para in text.split("\n"):
        line = ""
        for word in para.split():
            trial = f"{line} {word}".strip()
            if line and cv2.getTextSize(trial, FONT, scale, thick)[0][0] > width:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return lines
