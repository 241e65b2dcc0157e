"""`emojicall calibrate`: record ~3 s of the main face through the app's chain, check it, store the offset
(calibration.py holds the recording, the checks and the store; this is the command around them)."""
from __future__ import annotations

import argparse
from pathlib import Path

from .calibration import SECONDS, record, reset, save


def _frames(source, skip: int):
    i = 0
    while (frame := source.read()) is not None:
        if i >= skip:
            yield frame
        i += 1


def main(argv: list[str] | None = None) -> int:
    """`emojicall calibrate`: record, check, store."""
    ap = argparse.ArgumentParser(prog="emojicall calibrate", description="Record ~3 s of your calm, neutral face "
                                 "so the emoji reads your resting face as neutral (stored in your config folder).")
    ap.add_argument("--camera", "--source", dest="camera", default="0", help="camera index or video file (default 0)")
    ap.add_argument("--model", help="the model to calibrate (default: the app's)")
    ap.add_argument("--detector", help="default: the app's")
    ap.add_argument("--seconds", type=float, default=SECONDS, help=f"how long to record (default {SECONDS:g})")
    ap.add_argument("--start", type=float, default=0.0, help="video files: skip this many seconds first")
    ap.add_argument("--file", type=Path, help="store here instead of the config folder")
    ap.add_argument("--reset", action="store_true", help="delete the stored calibration")
    args = ap.parse_args(argv)
    if args.reset:
        reset(args.file)
        print("calibration removed")
        return 0
    from . import build
    from .detectors import DEFAULT
    from .settings import Settings
    from .sources import open_source

    settings = Settings(camera=args.camera, detector=args.detector or DEFAULT, model=args.model or "",
                        calibration=False)
    source = open_source(args.camera)
    try:
        pipeline = build.pipeline(settings, detector_fallback=args.detector is None)  # the classifier's own output
        fps = None if source.live else source.fps
        skip = int(args.start * (source.fps or 30)) if not source.live else 0
        frames = _frames(source, skip)
        if source.live:
            print(f"Look at the camera with a calm, neutral face for {args.seconds:g} s ...", flush=True)
        try:
            offset = record(pipeline, frames, args.seconds, fps)
        finally:
            pipeline.close()
    finally:
        source.close()
    path = save(offset, pipeline.classifier.model_dir.name, args.file)
    print(f"calibrated {pipeline.classifier.model_dir.name}: stored in {path} "
          f"(`emojicall run` uses it; --no-calibration to switch it off)")
    return 0
