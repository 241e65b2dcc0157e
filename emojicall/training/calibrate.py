"""Per-detector crop calibration: where does each detector's box fall inside the FER-2013 frame?

Each FER-2013 training face (48 px) is upscaled (default x4, 192 px, bicubic) and placed in the middle of a
canvas padded with the image's own replicated edge (so a detector sees some context), and the detector runs
on it. For the largest box that covers the canvas centre, the FER frame's centre and side are written in the
box's terms: dx = (frame centre x - box centre x) / box w, dy likewise / box h, scale = frame side / the box's
longer side. The medians are that detector's Framing (emojicall.crop); their spread (the robust sd) is how much
real boxes jitter around the FER framing, which the trainer's framing jitter is set from.

    python -m emojicall.training.calibrate --detectors haar mtcnn blazeface --n 2000 --model models/fernet

writes models/<model>/crop.json (read by the app at run time) with the medians, spreads and detection rate.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from ..crop import CALIBRATION, Framing, eye_angle, framing_dict
from ..detectors import create_detector
from .data import default_data_path, load_fer

ALIGN = {"mtcnn": True, "blazeface": True}  # detectors whose faces carry eye landmarks


def canvas(face48: np.ndarray, up: int, pad: float) -> tuple[np.ndarray, float, float]:
    """BGR canvas with the upscaled face in the middle; returns it, the face's origin and side in pixels."""
    side = 48 * up
    big = cv2.resize(face48, (side, side), interpolation=cv2.INTER_CUBIC)
    p = int(round(side * pad))
    img = cv2.copyMakeBorder(big, p, p, p, p, cv2.BORDER_REPLICATE)
    return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR), float(p), float(side)


def measure(detector, images: np.ndarray, up: int = 4, pad: float = 0.5) -> dict:
    rows = []
    for im in images:
        img, origin, side = canvas(im, up, pad)
        c = origin + side / 2
        faces = [f for f in detector.detect(img)
                 if f.box[0] <= c <= f.box[0] + f.box[2] and f.box[1] <= c <= f.box[1] + f.box[3]]
        if not faces:
            continue
        f = max(faces, key=lambda f: f.area)
        x, y, w, h = f.box
        rows.append(((c - (x + w / 2)) / w, (c - (y + h / 2)) / h, side / max(w, h),
                     np.degrees(eye_angle(f.landmarks))))
    a = np.array(rows, np.float64).reshape(-1, 4)

    def spread(v):  # robust sd: the interquartile range of a normal is 1.349 sd
        q1, q3 = np.percentile(v, [25, 75]) if len(v) else (0, 0)
        return round(float((q3 - q1) / 1.349), 4)

    med = np.median(a, axis=0) if len(a) else np.array([0, 0, 1.2, 0])
    return {"n": int(len(images)), "found": int(len(a)), "detection_rate": round(len(a) / max(1, len(images)), 4),
            "dx": round(float(med[0]), 4), "dy": round(float(med[1]), 4), "scale": round(float(med[2]), 4),
            "sd_dx": spread(a[:, 0]), "sd_dy": spread(a[:, 1]), "sd_log_scale": spread(np.log(a[:, 2])),
            "eye_angle_median_deg": round(float(med[3]), 2), "sd_eye_angle_deg": spread(a[:, 3])}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--detectors", nargs="+", default=["haar", "mtcnn", "blazeface"])
    ap.add_argument("--n", type=int, default=2000, help="training faces to measure (evenly spaced)")
    ap.add_argument("--up", type=int, default=4, help="upscale factor (48 px -> 48*up)")
    ap.add_argument("--pad", type=float, default=0.5, help="border on each side, as a share of the face side")
    ap.add_argument("--model", type=Path, default=Path("models/fernet"), help="model folder to write crop.json to")
    ap.add_argument("--data", type=Path)
    ap.add_argument("--real-factor", type=float, default=1.0,
                    help="multiply every measured scale by this: the ratio chosen on real video's tune split "
                         "(bench/real_faces.py), since blurry upscaled 48 px faces draw other boxes than sharp ones")
    args = ap.parse_args(argv)
    images, _ = load_fer(args.data or default_data_path(), "train")
    pick = images[np.linspace(0, len(images) - 1, args.n).astype(int)]
    out = {"command": "python -m emojicall.training.calibrate " + " ".join(argv if argv is not None else sys.argv[1:]),
           "up": args.up, "pad": args.pad, "detectors": {}}
    for name in args.detectors:
        det = create_detector(name)
        try:
            m = measure(det, pick, args.up, args.pad)
        finally:
            det.close()
        f = Framing(dx=m["dx"], dy=m["dy"], scale=round(m["scale"] * args.real_factor, 4),
                    align=ALIGN.get(name, False))
        m["measured_scale"] = m.pop("scale")
        out["detectors"][name] = {**framing_dict(f), **m, "real_factor": args.real_factor}
        print(name, out["detectors"][name], flush=True)
    path = args.model / CALIBRATION
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
