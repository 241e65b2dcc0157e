"""Face detector comparison on the annotated photos of ../shared/media/face_boxes (run by hand, not in CI).

    .venv/bin/python bench/detectors.py            # all configurations in CONFIGS
    .venv/bin/python bench/detectors.py --only haar_app,mtcnn_app

Scoring follows ../shared/media/SOURCE.md §2: ground truth is every face of annotations.csv at least 20 px wide
and high and not ignored; a detection counts as a hit at IoU >= 0.5; detections on small or ignored faces are
neither hits nor false positives. AP is the area under the all-points interpolated precision-recall curve,
built from each detector's own scores. Speed is the median ms per call on 640x480 frames of a real webcam
clip (Intel ASL), the frame size the app sees. Writes bench/detectors.json, docs/detectors.md and
docs/detectors_pr.png.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from emojicall.detectors.scoring import load_boxes, match  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media"
BOXES = MEDIA / "face_boxes"
SPEED_CLIP = MEDIA / "videos" / "webcam" / "intel_asl_book.mkv"
MIN_GT = 20      # SOURCE.md §2
WEBCAM_GT = 40   # faces at least this big: the sizes a webcam call shows
THR = 0.5

# name -> (detector, options, label). "app" rows are what EmojiCall ships; the others are the before/after
# of the tuning. MTCNN's app threshold (0.9) is applied after scoring, so the PR curve can go below it.
CONFIGS = {
    "haar_app": ("haar", dict(max_width=640, scale_factor=1.1, min_neighbors=5, min_size=30),
                 "Haar, app (640 px, 1.1, 5, min 30)"),
    "haar_24": ("haar", dict(max_width=640, scale_factor=1.1, min_neighbors=5, min_size=24),
                "Haar, 640 px, 1.1, 5, min 24"),
    "haar_115": ("haar", dict(max_width=640, scale_factor=1.15, min_neighbors=5, min_size=24),
                 "Haar, 640 px, 1.15, 5, min 24"),
    "haar_fast": ("haar", dict(max_width=320, scale_factor=1.1, min_neighbors=4, min_size=20),
                  "Haar, 320 px (1.1, 4, min 20)"),
    "mtcnn_default": ("mtcnn", dict(max_width=0, min_face_size=20, scale_factor=0.709,
                                    thresholds_stages=(0.6, 0.7, 0.8), compile=False, threshold=0.0),
                      "MTCNN, package defaults (full size, min 20, eager)"),
    "mtcnn_app": ("mtcnn", dict(max_width=640, min_face_size=40, scale_factor=0.709,
                                thresholds_stages=(0.6, 0.7, 0.8), compile=True, threshold=0.0),
                  "MTCNN, app (640 px, min 40, compiled)"),
    "mtcnn_320": ("mtcnn", dict(max_width=320, min_face_size=20, scale_factor=0.709,
                                thresholds_stages=(0.6, 0.7, 0.8), compile=True, threshold=0.0),
                  "MTCNN, 320 px (min 20, compiled)"),
}
MTCNN_APP_THRESHOLD = 0.9


def load_gt() -> dict[str, list[tuple[tuple, bool]]]:
    return load_boxes(BOXES / "annotations.csv", MIN_GT)


def pr_curve(scored, n_gt):
    scored = sorted((s for s in scored if s[1] != "skip"), key=lambda s: -s[0])
    tp = np.cumsum([s[1] == "tp" for s in scored])
    fp = np.cumsum([s[1] == "fp" for s in scored])
    recall = tp / max(1, n_gt)
    precision = tp / np.maximum(1, tp + fp)
    return recall, precision


def average_precision(recall, precision) -> float:
    if len(recall) == 0:
        return 0.0
    r = np.concatenate([[0.0], recall, [recall[-1]]])
    p = np.concatenate([[1.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    return float(np.sum((r[1:] - r[:-1]) * p[1:]))


def evaluate(name: str, gt: dict, negatives: list[Path], speed_frames: list[np.ndarray]) -> dict:
    from emojicall.detectors import create_detector

    kind, options, label = CONFIGS[name]
    det = create_detector(kind, **options)
    keep = MTCNN_APP_THRESHOLD if kind == "mtcnn" else 0.0
    det.detect(speed_frames[0])  # warm-up: graph tracing, first-call allocations
    times = []
    for frame in speed_frames:
        t = time.perf_counter()
        det.detect(frame)
        times.append(time.perf_counter() - t)
    scored, per_size, photo_ms = [], {"all": [0, 0], "webcam": [0, 0]}, []
    for image, faces in gt.items():
        img = cv2.imread(str(BOXES / image))
        t = time.perf_counter()
        dets = det.detect(img)
        photo_ms.append(time.perf_counter() - t)
        outcome = match(dets, faces, THR)
        scored += [(s, o) for s, o, _ in outcome]
        hit = {i for s, o, i in outcome if o == "tp" and s >= keep}
        for i, (box, counted) in enumerate(faces):
            if counted:
                for key, ok in (("all", True), ("webcam", min(box[2:]) >= WEBCAM_GT)):
                    if ok:
                        per_size[key][0] += i in hit
                        per_size[key][1] += 1
    neg_fp = neg_imgs = 0
    for path in negatives:
        n = sum(d.score >= keep for d in det.detect(cv2.imread(str(path))))
        neg_fp, neg_imgs = neg_fp + n, neg_imgs + (n > 0)
    det.close()
    n_gt = per_size["all"][1]
    recall, precision = pr_curve(scored, n_gt)
    op = [s for s in scored if s[0] >= keep and s[1] != "skip"]
    tp, fp = sum(o == "tp" for _, o in op), sum(o == "fp" for _, o in op)
    return {"name": name, "label": label, "detector": kind, "options": options, "app_threshold": keep,
            "tp": tp, "fp": fp, "fn": n_gt - tp, "gt": n_gt,
            "precision": round(tp / max(1, tp + fp), 3), "recall": round(tp / max(1, n_gt), 3),
            "ap": round(average_precision(recall, precision), 3),
            "recall_webcam_faces": round(per_size["webcam"][0] / max(1, per_size["webcam"][1]), 3),
            "webcam_faces": per_size["webcam"][1],
            "negatives_fp": neg_fp, "negative_images_with_fp": neg_imgs, "negative_images": len(negatives),
            "ms_640x480_p50": round(1000 * float(np.median(times)), 1),
            "ms_640x480_p95": round(1000 * float(np.percentile(times, 95)), 1),
            "ms_photo_p50": round(1000 * float(np.median(photo_ms)), 1),
            "pr": {"recall": [round(float(v), 4) for v in recall], "precision": [round(float(v), 4) for v in precision]}}


def cpu_note() -> str:
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    return f"{os.cpu_count()} cores, 1-min load average {load:.1f} at the start"


def write_outputs(results: list[dict], note: str) -> None:
    out = {"cpu": note, "python": platform.python_version(), "opencv": cv2.__version__,
           "min_gt_px": MIN_GT, "iou": THR, "results": results}
    (ROOT / "bench" / "detectors.json").write_text(json.dumps(out, indent=1) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    for r in results:
        ax.plot(r["pr"]["recall"], r["pr"]["precision"], label=f"{r['label']}  AP {r['ap']:.2f}")
        ax.plot([r["recall"]], [r["precision"]], "o", color=ax.lines[-1].get_color())
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02),
           title=f"Face detectors on {results[0]['gt']} annotated faces (>= {MIN_GT} px, IoU {THR})")
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    (ROOT / "docs").mkdir(exist_ok=True)
    fig.savefig(ROOT / "docs" / "detectors_pr.png", dpi=110)
    table = ["| detector | precision | recall | AP | recall, faces >= 40 px | FP on 14 negatives | ms / 640x480 frame p50 (p95) |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        table.append(f"| {r['label']} | {r['precision']:.3f} ({r['tp']} TP, {r['fp']} FP) | {r['recall']:.3f} "
                     f"({r['fn']} FN) | {r['ap']:.3f} | {r['recall_webcam_faces']:.3f} | {r['negatives_fp']} "
                     f"(in {r['negative_images_with_fp']} images) | {r['ms_640x480_p50']} ({r['ms_640x480_p95']}) |")
    doc = ROOT / "docs" / "detectors.md"
    text = doc.read_text() if doc.exists() else ""
    start, end = "<!-- table:start -->", "<!-- table:end -->"
    block = f"{start}\n{chr(10).join(table)}\n\nMeasured {time.strftime('%Y-%m-%d')}: {note}.\n{end}"
    if start in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = f"# Face detectors\n\n{block}\n"
    doc.write_text(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated names from CONFIGS")
    ap.add_argument("--note", default="", help="free text for the results, e.g. 'training job running'")
    args = ap.parse_args(argv)
    if not BOXES.is_dir():
        print(f"needs {BOXES} (the shared media folder beside the project root)", file=sys.stderr)
        return 2
    names = args.only.split(",") if args.only else list(CONFIGS)
    gt = load_gt()
    negatives = sorted(p for p in (BOXES / "negatives").iterdir() if p.suffix.lower() in (".jpg", ".png"))
    cap = cv2.VideoCapture(str(SPEED_CLIP))
    frames = []
    while len(frames) < 30 and (frame := cap.read()[1]) is not None:
        frames.append(frame)
    note = cpu_note() + (f"; {args.note}" if args.note else "")
    results = []
    for name in names:
        r = evaluate(name, gt, negatives, frames)
        results.append(r)
        print(f"{name:15s} P {r['precision']:.3f} R {r['recall']:.3f} AP {r['ap']:.3f} R>=40 {r['recall_webcam_faces']:.3f}"
              f" negFP {r['negatives_fp']} ms {r['ms_640x480_p50']} (p95 {r['ms_640x480_p95']}) photo {r['ms_photo_p50']}",
              flush=True)
    write_outputs(results, note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
