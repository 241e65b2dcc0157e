"""Emoji packs: a folder with one RGBA PNG per class (<class>.png), and the drawable sprites made from them.

A sprite is the art resized (and rotated) premultiplied, cut to its non-transparent box, with the few pixels
of partial alpha (the antialiased rim: 0.5% of the bundled art) listed apart, so that blending one is a masked
copy plus integer math on the rim (compositor.blend). Sides are snapped to geometric steps and angles to
ANGLE_STEP degrees so that a face that changes size or tilt a little every frame reuses cached sprites; the
cache is an LRU bounded in bytes (CACHE_BYTES)."""
from __future__ import annotations

import math
import struct
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from .errors import UserError
from .labels import LABELS
from .paths import bundled_emojis

SIDE_RATIO = 1.07            # size steps: a drawn emoji is at most 3.5% off the wanted side
ANGLE_STEP = 3.0             # degrees
CACHE_BYTES = 32 * 2**20
MAX_SIDE_PX = 4096           # art larger than this (per side) is refused before decoding
MAX_FILE_BYTES = 64 * 2**20
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def snap_side(side: float) -> int:
    """The nearest size step to `side` (>= 1)."""
    if side <= 1:
        return 1
    return max(1, int(round(SIDE_RATIO ** round(math.log(side, SIDE_RATIO)))))


def snap_angle(deg: float) -> float:
    return ANGLE_STEP * round(deg / ANGLE_STEP)


class Sprite:
    """Premultiplied BGRA art of w x h, stored cut to its non-transparent box at (ox, oy): `bgr` (premultiplied)
    and `alpha` over that box, and the partial-alpha pixels as box coordinates `ys`, `xs` with `sa` (colour
    times alpha, exact) and `inv` (255 - alpha)."""

    def __init__(self, pm: np.ndarray, straight: np.ndarray | None = None):
        # OpenCV throughout: numpy's copy of a 3-of-4-channel view alone took 11 ms on a 786 px sprite.
        self.h, self.w = pm.shape[:2]
        x, y, bw, bh = cv2.boundingRect(cv2.extractChannel(pm, 3))
        self.ox, self.oy = x, y
        box = pm[y:y + bh, x:x + bw]
        self.bgr = cv2.cvtColor(box, cv2.COLOR_BGRA2BGR) if bh and bw else np.zeros((0, 0, 3), np.uint8)
        self.alpha = cv2.extractChannel(box, 3) if bh and bw else np.zeros((0, 0), np.uint8)
        pts = cv2.findNonZero(cv2.inRange(self.alpha, 1, 254)) if bh and bw else None
        pts = np.zeros((0, 2), np.int32) if pts is None else pts.reshape(-1, 2)
        self.xs, self.ys = np.ascontiguousarray(pts[:, 0]), np.ascontiguousarray(pts[:, 1])
        a = self.alpha[self.ys, self.xs].astype(np.uint16)[:, None]
        self.inv = 255 - a
        # Colour x alpha: exact from straight art where the caller has it, else from the premultiplied value.
        if straight is not None:
            self.sa = straight[self.ys + y, self.xs + x, :3].astype(np.uint16) * a
        else:
            self.sa = self.bgr[self.ys, self.xs].astype(np.uint16) * 255

    @classmethod
    def from_bgra(cls, bgra: np.ndarray) -> Sprite:
        """From straight-alpha BGRA (uint8)."""
        return cls(premultiply(bgra), bgra)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.bgr, self.alpha, self.ys, self.xs, self.sa, self.inv))


def premultiply(bgra: np.ndarray) -> np.ndarray:
    """Premultiplied BGRA (uint8) of straight-alpha BGRA."""
    if bgra.ndim != 3 or bgra.shape[2] != 4 or bgra.dtype != np.uint8:
        raise ValueError(f"a sprite needs a uint8 BGRA image, got {bgra.dtype} {bgra.shape}")
    a = cv2.extractChannel(bgra, 3)
    bgr = cv2.multiply(cv2.cvtColor(bgra, cv2.COLOR_BGRA2BGR), cv2.merge((a, a, a)), scale=1 / 255)
    return cv2.merge((*cv2.split(bgr), a))


class EmojiPack:
    def __init__(self, folder: str | Path, cache_bytes: int = CACHE_BYTES):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise UserError(f"emoji folder not found: {self.folder}: pass a folder with {LABELS[0]}.png ... {LABELS[-1]}.png")
        self.images = {label: _load_rgba(self.folder / f"{label}.png") for label in LABELS}
        self._premultiplied = {label: premultiply(img) for label, img in self.images.items()}  # for turning
        self.name = self.folder.name
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[tuple[str, int, float], Sprite] = OrderedDict()
        self._bytes = 0

    @property
    def cached_bytes(self) -> int:
        return self._bytes

    def get(self, label: str, size: int, angle: float = 0.0) -> Sprite:
        """The emoji as a sprite of side snap_side(size), turned by snap_angle(angle) degrees (counter-clockwise
        as seen; the canvas grows to hold the turned square)."""
        side, angle = snap_side(size), snap_angle(angle) % 360.0
        key = (label, side, angle)
        sprite = self._cache.get(key)
        if sprite is not None:
            self._cache.move_to_end(key)
            return sprite
        sprite = self._make(label, side, angle)
        if sprite.nbytes <= self.cache_bytes // 4:  # a giant one-off is drawn but never evicts everything else
            self._cache[key] = sprite
            self._bytes += sprite.nbytes
            while self._bytes > self.cache_bytes:
                _, old = self._cache.popitem(last=False)
                self._bytes -= old.nbytes
        return sprite

    def _make(self, label: str, side: int, angle: float) -> Sprite:
        img = self.images[label]
        interp = cv2.INTER_AREA if side < img.shape[0] else cv2.INTER_LINEAR
        if angle == 0.0:  # straight art resized: exact colour x alpha for the rim
            return Sprite.from_bgra(cv2.resize(img, (side, side), interpolation=interp))
        # Turned in premultiplied form, so the rim blends with transparent black without a dark fringe.
        pm = cv2.resize(self._premultiplied[label], (side, side), interpolation=interp)
        rad = math.radians(angle)
        out = int(math.ceil(side * (abs(math.cos(rad)) + abs(math.sin(rad))) - 1e-6))
        m = cv2.getRotationMatrix2D((side / 2, side / 2), angle, 1.0)
        m[:, 2] += (out - side) / 2
        pm = cv2.warpAffine(pm, m, (out, out), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=(0, 0, 0, 0))
        return Sprite(pm)


def _png_size(path: Path, head: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk that every PNG starts with."""
    if len(head) < 24 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR":
        raise UserError(f"emoji file {path} is not a PNG: replace it with an RGBA PNG")
    return struct.unpack(">II", head[16:24])


def check_art(path: Path) -> None:
    """Refuses, naming the file, what is missing, not a PNG or too large to decode, from its header alone."""
    if not path.is_file():
        raise UserError(f"emoji file missing: {path}: add {path.name} (an RGBA PNG) to the pack")
    size = path.stat().st_size
    with open(path, "rb") as fh:
        width, height = _png_size(path, fh.read(24))
    # Checked before decoding: a 20000 x 20000 PNG is a few kB on disk and 1.6 GB once decoded.
    if width > MAX_SIDE_PX or height > MAX_SIDE_PX or size > MAX_FILE_BYTES:
        raise UserError(f"emoji file {path} is too large ({width}x{height} px, {size / 2**20:.1f} MB): "
                        f"use an RGBA PNG of at most {MAX_SIDE_PX}x{MAX_SIDE_PX} px and {MAX_FILE_BYTES // 2**20} MB "
                        f"(512x512 is plenty)")


def _load_rgba(path: Path) -> np.ndarray:
    check_art(path)
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
