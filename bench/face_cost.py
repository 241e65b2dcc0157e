"""What one face costs the classifier stage as the app runs it (crop + LiteRT + the app's TTA setting, one thread),
for several models measured interleaved: blocks of calls alternate between the models, so a busy moment on a
shared CPU hits them alike and the ratio holds even when the absolute numbers drift.

    .venv/bin/python bench/face_cost.py [--models fernet_rw fernet_duo] [--blocks 20] [--calls 100]

The face is a fixed box with eye landmarks on the first frame of bench_720p_closeup.mp4 (a webcam-distance face),
cropped with the model's MTCNN calibration. Writes bench/face_cost.json and bench/face_cost.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from emojicall.training import jsonfile  # noqa: E402

from emojicall import model_files as mf  # noqa: E402
from emojicall.classifier import EmotionClassifier  # noqa: E402
from emojicall.face import Face  # noqa: E402

CLIP = ROOT.parent / "shared" / "media" / "videos" / "bench_720p_closeup.mp4"


def first_frame() -> np.ndarray:
    import cv2

    cap = cv2.VideoCapture(str(CLIP))
    ok, frame = cap.read()
    cap.release()
    if not ok:
        raise SystemExit(f"cannot read {CLIP}: is ../shared there?")
    return frame


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["fernet_rw", "fernet_duo"])
    ap.add_argument("--blocks", type=int, default=20)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "face_cost")
    args = ap.parse_args(argv)
    frame = first_frame()
    h, w = frame.shape[:2]
    eye_y = h // 4 + h // 6
    face = Face(box=(w // 3, h // 4, h // 2, h // 2),
                landmarks={"left_eye": (w // 3 + h // 8, eye_y), "right_eye": (w // 3 + 3 * h // 8, eye_y)})
    models = {m: EmotionClassifier(m, tta=mf.APP_TTA) for m in args.models}
    for clf in models.values():
        clf.use_detector("mtcnn")
    one = {m: np.zeros((1, c.size, c.size, 1), np.float32) + 128 for m, c in models.items()}
    face_t = {m: [] for m in models}
    model_t = {m: [] for m in models}
    load = [round(x, 2) for x in os.getloadavg()]
    for _ in range(args.blocks):
        for m, clf in models.items():
            for _ in range(args.calls):
                t = time.perf_counter()
                clf.classify(frame, [face])
                face_t[m].append(time.perf_counter() - t)
            for _ in range(args.calls):
                t = time.perf_counter()
                clf.predict_crops(one[m])
                model_t[m].append(time.perf_counter() - t)
    base = args.models[0]
    rows = [{"model": m, "tta": clf.tta, "sees_mirror": bool(clf.meta.get("sees_mirror")),
             "face_ms": round(float(np.median(face_t[m])) * 1e3, 3),
             "model_ms": round(float(np.median(model_t[m])) * 1e3, 3)} for m, clf in models.items()]
    for r in rows:
        r["face_ratio_to_first"] = round(r["face_ms"] / rows[0]["face_ms"], 3)
    result = {"command": "python bench/face_cost.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "date": time.strftime("%Y-%m-%d %H:%M"), "load_before": load,
              "load_after": [round(x, 2) for x in os.getloadavg()], "rows": rows}
    jsonfile.write(result, args.out.with_suffix(".json"))
    lines = ["# One face through the classifier stage, models interleaved", "",
             f"`{result['command']}` ({result['date']}, load average {load} before, {result['load_after']} after). "
             f"Medians of {args.blocks} x {args.calls} calls each; ratios against {base} in the same run.", "",
             "| model | TTA | mirror inside | crop + model, ms | model alone, ms | ratio to first |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['model']} | {r['tta']} | {r['sees_mirror']} | {r['face_ms']:.3f} | {r['model_ms']:.3f} | "
              f"{r['face_ratio_to_first']:.3f} |" for r in rows]
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
