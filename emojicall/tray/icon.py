"""The tray icon image, drawn with Pillow from the emoji pack's PNGs: the main face's emoji, greyed when
paused or with the overlay off, with a red dot when something needs fixing."""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from ..emojis import check_art
from ..errors import UserError
from ..paths import bundled_emojis

SIZE = 64
log = logging.getLogger(__name__)
_warned: set[str] = set()


@lru_cache(maxsize=64)
def icon_image(label: str | None = None, *, greyed: bool = False, problem: bool = False, folder: str = "",
               size: int = SIZE) -> Image.Image:
    """Cached and shared: callers must not draw on the returned image."""
    name = f"{label or 'neutral'}.png"
    img = _user_art(Path(folder) / name) if folder else None
    if img is None:
        img = Image.open(bundled_emojis() / name).convert("RGBA")
    img = img.resize((size, size), Image.LANCZOS)
    if greyed:
        grey = ImageOps.grayscale(img)
        alpha = img.getchannel("A").point(lambda a: a * 6 // 10)
        img = Image.merge("RGBA", (grey, grey, grey, alpha))
    if problem:
        draw = ImageDraw.Draw(img)
        d = size * 9 // 20
        x0, y0 = size - d, size - d
        draw.ellipse((x0, y0, size - 1, size - 1), fill=(220, 30, 30, 255), outline=(255, 255, 255, 255),
                     width=max(1, size // 32))
        cx, bar = x0 + d // 2, max(2, d // 8)  # an exclamation mark from shapes: no font needed
        draw.rectangle((cx - bar // 2, y0 + d // 5, cx + bar // 2, y0 + d * 3 // 5), fill="white")
        draw.rectangle((cx - bar // 2, y0 + d * 7 // 10, cx + bar // 2, y0 + d * 7 // 10 + bar), fill="white")
    return img


def _user_art(path: Path) -> Image.Image | None:
    """The user's art, or None (logged once per pack) when it is missing, huge, truncated or not an image: the
    icon still has to show something."""
    try:
        check_art(path)  # a decompression bomb is refused from its header, before Pillow decodes anything
        with Image.open(path) as img:
            return img.convert("RGBA")
    except (UserError, OSError, ValueError, Image.DecompressionBombError) as exc:
        if str(path.parent) not in _warned:
            _warned.add(str(path.parent))
            what = str(exc) if isinstance(exc, UserError) else f"cannot open {path} ({exc})"
            log.warning("tray icon: %s; using the bundled emoji pack", what)
        return None
