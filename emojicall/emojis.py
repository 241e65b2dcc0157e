"""Emoji packs: a folder with one RGBA PNG per class (<class>.png). Resized copies are cached per size."""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from .errors import UserError
from .labels import LABELS
from .paths import bundled_emojis

log = logging.getLogger(__name__)


class EmojiPack:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise UserError(f"emoji folder not found: {self.folder}: pass a folder with {LABELS[0]}.png ... {LABELS[-1]}.png")
        self.images = {label: _load_rgba(self.folder / f"{label}.png") for label in LABELS}
        self.name = self.folder.name
        self._cache: dict[tuple[str, int], np.ndarray] = {}

    def get(self, label: str, size: int) -> np.ndarray:
        """The emoji as a size x size BGRA image."""
        size = max(1, int(size))
        key = (label, size)
        img = self._cache.get(key)
        if img is None:
            if len(self._cache) > 256:  # faces change size every frame; bound the cache
                self._cache.clear()
            src = self.images[label]
            interp = cv2.INTER_AREA if size < src.shape[0] else cv2.INTER_LINEAR
            img = self._cache[key] = cv2.resize(src, (size, size), interpolation=interp)
        return img


def _load_rgba(path: Path) -> np.ndarray:
    if not path.is_file():
        raise UserError(f"emoji file missing: {path}: add {path.name} (an RGBA PNG) to the pack")
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise UserError(f"emoji file unreadable: {path}: replace it with an RGBA PNG")
    if img.ndim != 3 or img.shape[2] != 4:
        raise UserError(f"emoji file {path} has no alpha channel: save it as an RGBA PNG")
    if img.dtype != np.uint8:
        img = (img / 257).astype(np.uint8) if img.dtype == np.uint16 else img.astype(np.uint8)
    # Square canvas so scaling to a face box never distorts the art.
    h, w = img.shape[:2]
    if h != w:
        side = max(h, w)
        canvas = np.zeros((side, side, 4), np.uint8)
        canvas[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = img
        img = canvas
    return img


@lru_cache(maxsize=1)
def bundled_pack() -> EmojiPack:
    return EmojiPack(bundled_emojis())


def load_pack(folder: str | Path | None) -> EmojiPack:
    """The user's pack, or the bundled one; a broken user pack warns (naming the file) and falls back."""
    if folder is None:
        return bundled_pack()
    try:
        return EmojiPack(folder)
    except UserError as exc:
        log.warning("%s; using the bundled emoji pack", exc)
        return bundled_pack()
