"""The flags `emojicall run` and `emojicall tray` share, parsed one way and turned into Settings in one place.
Every flag defaults to None, meaning "keep the base": Settings' defaults for `run`, the saved file for the tray.
Values are checked by Settings.problems() (the one place, which the tray menu uses too), so a bad one is one
line naming its flag, not argparse's usage block."""
from __future__ import annotations

import argparse
from pathlib import Path

from .errors import UserError
from .settings import STYLES, Settings

FIELDS = ("camera", "detector", "style", "mirror", "overlay", "show_label", "model", "tta", "calibration", "auto_calibration",
          "detect_every", "vcam_backend", "width", "height", "fps")


def add_stream_flags(p: argparse.ArgumentParser) -> None:
    from .detectors import DEFAULT, NAMES
    from .model_files import DEFAULT_MODEL
    from .vcam import CHOICES

    on_off = argparse.BooleanOptionalAction
    p.add_argument("--camera", "--source", dest="camera",
                   help="camera index (`emojicall doctor` lists them), video file, image or folder, or 'demo'")
    p.add_argument("--detector", help=f"{' | '.join(NAMES)}: {DEFAULT} by default (reads real video best, on "
                   "LiteRT); blazeface is the fastest; haar (OpenCV's cascade) stands in when the default cannot start")
    p.add_argument("--style", help=f"{' | '.join(STYLES)}: emoji over the face (default), a badge beside it, or a "
                   "text label")
    p.add_argument("--emoji-dir", type=Path, help="folder with angry.png ... neutral.png (RGBA) to use instead")
    p.add_argument("--mirror", action=on_off, help="flip left-right (meeting apps mirror the self-view already)")
    p.add_argument("--overlay", action=on_off, help="--no-overlay sends the plain camera picture")
    p.add_argument("--show-label", action=on_off, help="also write the emotion's name above each face")
    p.add_argument("--model", help=f"model folder or name under models/ (default: {DEFAULT_MODEL})")
    p.add_argument("--tta", action=on_off, help="also classify each face's mirror image and average (on by "
                   "default; the default model holds the mirror view itself, so it costs nothing there)")
    p.add_argument("--calibration", action=on_off, help="--no-calibration ignores the offset `emojicall calibrate` "
                   "stored for you")
    p.add_argument("--auto-calibration", action=on_off, help="learn your calm face during the call from the frames "
                   "that look near-neutral (after 10 s of them); a stored calibration wins (off by default)")
    p.add_argument("--detect-every", type=int, help="run the detector every N frames, optical-flow tracking "
                   "between (default 5)")
    p.add_argument("--vcam-backend", help=f"{' | '.join(CHOICES)}: where the virtual camera is published (auto, the "
                   "default: the one that shows as EmojiCam first; `emojicall doctor` says which)")
    p.add_argument("--width", type=int, help="virtual camera and camera capture width (default 1280)")
    p.add_argument("--height", type=int, help="virtual camera and camera capture height (default 720)")
    p.add_argument("--fps", type=float, help="frame-rate cap for the virtual camera (default: the tray 30, "
                   "`run` the source's rate)")


def settings_from(args: argparse.Namespace, base: Settings | None = None, where: str = "") -> Settings:
    """`base` with every flag given applied; a value the app cannot use is one line naming its flag (and
    `where` the other values came from, e.g. the settings file)."""
    cfg = base if base is not None else Settings()
    for name in FIELDS:
        value = getattr(args, name, None)
        if value is not None:
            setattr(cfg, name, value)
    if getattr(args, "emoji_dir", None) is not None:
        folder = str(args.emoji_dir.resolve())
        cfg.pack = folder
        if folder not in cfg.packs:
            cfg.packs.append(folder)
    check(cfg, given={f for f in FIELDS if getattr(args, f, None) is not None}, where=where)
    return cfg


def check(cfg: Settings, given: set[str] = frozenset(), where: str = "") -> None:
    """The first value the app cannot use (Settings.problems()) as one line naming its flag: the flag given for
    it, if one was, else its own flag (and `where` the value came from, e.g. the settings file)."""
    bad = cfg.problems()
    if bad:
        fields, why = bad[0]
        named = [f for f in fields if f in given]
        flag = f"the --{(named or fields)[0].replace('_', '-')} flag"
        raise UserError(why, f"fix {flag}" + (f" (or {where})" if where and not named else ""))
