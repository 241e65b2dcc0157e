"""Full-frame message cards ("camera lost, reconnecting", "paused") sent instead of camera frames, so the
virtual camera never stops delivering frames of its size while there is nothing else to show."""
from __future__ import annotations

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
BACKGROUND = (40, 32, 28)  # dark slate (BGR): reads as "not live" without looking like a broken feed
INK = (235, 235, 235)


def card(text: str, size: tuple[int, int], background: np.ndarray | None = None) -> np.ndarray:
    """A size=(width, height) BGR image with `text` centred (lines split on '\\n', long lines wrapped).
    With `background` (any frame), that frame is shown dimmed and blurred behind the text."""
    w, h = max(1, int(size[0])), max(1, int(size[1]))
    if background is not None:
        from .detectors.base import as_bgr

        img = cv2.resize(as_bgr(background), (w, h), interpolation=cv2.INTER_AREA)
        k = max(3, (min(w, h) // 20) | 1)  # odd kernel, scaled to the frame so faces are not recognisable
        img = (cv2.GaussianBlur(img, (k, k), 0) * 0.35).astype(np.uint8)
    else:
        img = np.empty((h, w, 3), np.uint8)
        img[:] = BACKGROUND
    scale = max(0.35, min(w, h) / 400)
    thick = max(1, int(round(2 * scale)))
    lines = _wrap(text, scale, thick, int(w * 0.9))
    heights = [cv2.getTextSize(line, FONT, scale, thick)[0][1] for line in lines] or [0]
    gap = int(max(heights) * 0.8)
    total = sum(heights) + gap * (len(lines) - 1)
    y = (h - total) // 2
    for line, lh in zip(lines, heights):
        tw = cv2.getTextSize(line, FONT, scale, thick)[0][0]
        y += lh
        cv2.putText(img, line, ((w - tw) // 2, y), FONT, scale, INK, thick, cv2.LINE_AA)
        y += gap
    return img


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
