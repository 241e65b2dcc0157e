"""Face detector comparison on the annotated photos of ../shared/media/face_boxes (run by hand, not in CI).

    .venv/bin/python bench/detectors.py            # all configurations in CONFIGS
    .venv/bin/python bench/detectors.py --only haar_app,mtcnn_app

Scoring follows ../shared/media/SOURCE.md §2: ground truth is every face of annotations.csv at least 20 px wide
and high and not ignored; a detection counts as a hit at IoU >= 0.5; detections on small or ignored faces are
neither hits nor false positives. AP is the area under the all-points interpolated precision-recall curve,
built from each detector's own scores. Speed is the median ms per call on 640x480 frames of a real webcam
clip (Intel ASL) and on 1280x720 close-up frames, all detectors timed in turn on each frame so that other load
on the machine falls on all of them alike. Start-up is timed in fresh processes. Writes bench/detectors.json,
docs/detectors.md and docs/detectors_pr.png.
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
from emojicall.training import jsonfile  # noqa: E402
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from emojicall.training.boxes import load_boxes, match  # noqa: E402

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
                                    thresholds_stages=(0.6, 0.7, 0.8), compile=False, threshold=0.0,
                                    backend="tensorflow"),
                      "MTCNN, package defaults (full size, min 20, eager TensorFlow)"),
    "mtcnn_app": ("mtcnn", dict(max_width=640, min_face_size=40, scale_factor=0.709,
                                thresholds_stages=(0.6, 0.7, 0.8), compile=True, threshold=0.0,
                                backend="tensorflow"),
                  "MTCNN, app settings on TensorFlow (640 px, min 40, compiled)"),
    "mtcnn_320": ("mtcnn", dict(max_width=320, min_face_size=20, scale_factor=0.709,
                                thresholds_stages=(0.6, 0.7, 0.8), compile=True, threshold=0.0,
                                backend="tensorflow"),
                  "MTCNN, 320 px on TensorFlow (min 20, compiled)"),
    "mtcnn_app_litert": ("mtcnn", dict(max_width=640, min_face_size=40, scale_factor=0.709,
                                       thresholds_stages=(0.6, 0.7, 0.8), backend="litert", threshold=0.0),
                         "MTCNN, app (640 px, min 40, LiteRT)"),
    # At the app's min_score 0.5, not lower: weighted NMS would blend the extra low-score boxes into the kept ones.
    "blazeface_short": ("blazeface", dict(model="short", min_score=0.5), "BlazeFace short-range (128 px, LiteRT)"),
    "blazeface_full": ("blazeface", dict(model="full", min_score=0.5), "BlazeFace full-range, app (192 px, LiteRT)"),
}
# Scores at or over these are what the app keeps; MTCNN's configs run lower so its PR curves go past them.
APP_THRESHOLD = {"haar": 0.0, "mtcnn": 0.9, "blazeface": 0.5}
# Clips with one face in every frame (SOURCE.md §1): the share of frames where it is found, at webcam distance.
ONE_FACE_CLIPS = ["videos/bench_720p_closeup.mp4", "videos/webcam/pyfeat_single_face_smile.mp4",
                  "videos/webcam/intel_asl_book.mkv", "videos/webcam/intel_asl_again.mkv",
                  "videos/expressions/cremad_actor1001/1001_DFA_HAP_XX.flv"]
CLIP_STEP = 3  # every 3rd frame: neighbouring frames are near copies
CLOSEUP = "videos/bench_720p_closeup.mp4"


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


def read_frames(path: Path, step: int = 1, limit: int = 10_000) -> list[np.ndarray]:
    cap, frames, i = cv2.VideoCapture(str(path)), [], 0
    while len(frames) < limit and (frame := cap.read()[1]) is not None:
        if i % step == 0:
            frames.append(frame)
        i += 1
    cap.release()
    return frames


def timed(dets: dict, frames: list[np.ndarray], rounds: int = 2) -> dict[str, list[float]]:
    """ms per call for every detector, interleaved frame by frame (in a rotating order), so that load from
    other jobs on a shared machine falls on all of them alike and their ratios hold."""
    for det in dets.values():
        det.detect(frames[0])  # warm-up: graph tracing, first-call allocations
    names, times = list(dets), {name: [] for name in dets}
    for i, frame in enumerate(frames * rounds):
        for name in names[i % len(names):] + names[:i % len(names)]:
            t = time.perf_counter()
            dets[name].detect(frame)
            times[name].append(1000 * (time.perf_counter() - t))
    return times


def one_face_clips(det, keep: float, clips: dict[str, list[np.ndarray]]) -> dict:
    """Per clip and in all: frames where exactly one face was kept, none, and more than one."""
    out, total = {}, [0, 0, 0, 0]
    for clip, frames in clips.items():
        counts = [sum(f.score >= keep for f in det.detect(frame)) for frame in frames]
        row = [sum(c == 1 for c in counts), sum(c == 0 for c in counts), sum(c > 1 for c in counts), len(counts)]
        out[clip] = dict(zip(("one", "none", "more", "frames"), row))
        total = [a + b for a, b in zip(total, row)]
    out["all"] = dict(zip(("one", "none", "more", "frames"), total))
    return out


def silver_scores(det, keep: float) -> dict:
    """Precision / recall on the silver frames (MTCNN-made boxes, checked by eye: biased towards MTCNN's shape)."""
    tp = fp = n = 0
    for image, faces in load_boxes(BOXES / "silver_cc_frames" / "annotations_silver.csv", MIN_GT).items():
        outcome = [o for o in match(det.detect(cv2.imread(str(BOXES / image))), faces, THR) if o[0] >= keep]
        tp, fp = tp + sum(o == "tp" for _, o, _ in outcome), fp + sum(o == "fp" for _, o, _ in outcome)
        n += sum(counted for _, counted in faces)
    return {"tp": tp, "fp": fp, "gt": n, "precision": round(tp / max(1, tp + fp), 3), "recall": round(tp / max(1, n), 3)}


def evaluate(name: str, det, gt: dict, negatives: list[Path], times: list[float], closeup_times: list[float],
             clips: dict[str, list[np.ndarray]]) -> dict:
    kind, options, label = CONFIGS[name]
    keep = APP_THRESHOLD[kind]
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
    clip_counts = one_face_clips(det, keep, clips)
    silver = silver_scores(det, keep)
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
            "ms_640x480_p50": round(float(np.median(times)), 1),
            "ms_640x480_p95": round(float(np.percentile(times, 95)), 1),
            "ms_photo_p50": round(1000 * float(np.median(photo_ms)), 1),
            "ms_1280x720_closeup_p50": round(float(np.median(closeup_times)), 1),
            "ms_1280x720_closeup_p95": round(float(np.percentile(closeup_times, 95)), 1),
            "one_face_clips": clip_counts, "silver": silver,
            "pr": {"recall": [round(float(v), 4) for v in recall], "precision": [round(float(v), 4) for v in precision]}}


def cpu_note() -> str:
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    return f"{os.cpu_count()} cores, 1-min load average {load:.1f} at the start"


STARTUP = """
import json, sys, time
t = time.perf_counter()
import cv2
from emojicall.detectors import create_detector
frame = cv2.VideoCapture(sys.argv[3]).read()[1]
create_detector(sys.argv[1], **json.loads(sys.argv[2])).detect(frame)
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(time.perf_counter() - t, hwm / 1024, "tensorflow" in sys.modules)
"""


# label -> (detector, options): each as the app creates it
STARTS = {"haar": ("haar", {}), "mtcnn (TensorFlow)": ("mtcnn", {"backend": "tensorflow"}),
          "mtcnn (LiteRT)": ("mtcnn", {}), "blazeface": ("blazeface", {})}


def startup(kind: str, options: dict, runs: int = 3) -> dict:
    """A fresh process per run: imports, model load and the first detection on a close-up frame, as the app
    pays them (the interpreter's own start, ~0.1 s here, is not counted)."""
    import subprocess

    rows = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", STARTUP, kind, json.dumps(options), str(MEDIA / CLOSEUP)],
                             cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
        rows.append((float(out[0]), float(out[1]), out[2] == "True"))
    return {"startup_s": round(float(np.median([r[0] for r in rows])), 2),
            "peak_rss_mb": round(float(np.median([r[1] for r in rows]))), "tensorflow": rows[0][2]}


def write_outputs(results: list[dict], starts: dict, note: str) -> None:
    out = {"cpu": note, "python": platform.python_version(), "opencv": cv2.__version__,
           "min_gt_px": MIN_GT, "iou": THR, "results": results, "startup": starts}
    jsonfile.write(out, (ROOT / "bench" / "detectors.json"))
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
    table = ["| detector | precision | recall | AP | recall, faces >= 40 px | FP on 14 negatives "
             "| one-face clip frames: found (none, more) | silver frames P / R "
             "| ms / 640x480 frame p50 (p95) | ms / 1280x720 close-up p50 (p95) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        c, s = r["one_face_clips"]["all"], r["silver"]
        table.append(f"| {r['label']} | {r['precision']:.3f} ({r['tp']} TP, {r['fp']} FP) | {r['recall']:.3f} "
                     f"({r['fn']} FN) | {r['ap']:.3f} | {r['recall_webcam_faces']:.3f} | {r['negatives_fp']} "
                     f"(in {r['negative_images_with_fp']} images) | {c['one']}/{c['frames']} ({c['none']}, {c['more']}) "
                     f"| {s['precision']:.3f} / {s['recall']:.3f} | {r['ms_640x480_p50']} ({r['ms_640x480_p95']}) "
                     f"| {r['ms_1280x720_closeup_p50']} ({r['ms_1280x720_closeup_p95']}) |")
    if starts:
        table += ["", "| detector (app settings) | start-up to the first detection, s (median of 3) | peak RSS, MB "
                  "| imports TensorFlow |", "|---|---|---|---|"]
        table += [f"| {k} | {v['startup_s']} | {v['peak_rss_mb']} | {'yes' if v['tensorflow'] else 'no'} |"
                  for k, v in starts.items()]
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
    ap.add_argument("--no-startup", action="store_true", help="skip the fresh-process start-up runs")
    args = ap.parse_args(argv)
    if not BOXES.is_dir():
        print(f"needs {BOXES} (the shared media folder beside the project root)", file=sys.stderr)
        return 2
    names = args.only.split(",") if args.only else list(CONFIGS)
    gt = load_gt()
    negatives = sorted(p for p in (BOXES / "negatives").iterdir() if p.suffix.lower() in (".jpg", ".png"))
    frames = read_frames(SPEED_CLIP, limit=30)
    closeup = read_frames(MEDIA / CLOSEUP, step=10, limit=30)
    clips = {clip: read_frames(MEDIA / clip, CLIP_STEP) for clip in ONE_FACE_CLIPS}
    note = cpu_note() + (f"; {args.note}" if args.note else "")
    from emojicall.detectors import create_detector

    dets = {name: create_detector(CONFIGS[name][0], **CONFIGS[name][1]) for name in names}
    speed, closeup_speed = timed(dets, frames), timed(dets, closeup)
    results = []
    for name in names:
        r = evaluate(name, dets.pop(name), gt, negatives, speed[name], closeup_speed[name], clips)
        results.append(r)
        c = r["one_face_clips"]["all"]
        print(f"{name:15s} P {r['precision']:.3f} R {r['recall']:.3f} AP {r['ap']:.3f} R>=40 {r['recall_webcam_faces']:.3f}"
              f" negFP {r['negatives_fp']} clips {c['one']}/{c['frames']} (none {c['none']}, more {c['more']})"
              f" silver P {r['silver']['precision']} R {r['silver']['recall']} ms {r['ms_640x480_p50']}"
              f" (p95 {r['ms_640x480_p95']}) 720p {r['ms_1280x720_closeup_p50']} photo {r['ms_photo_p50']}",
              flush=True)
    starts = {}
    if not args.no_startup:
        for label, (kind, options) in STARTS.items():
            if kind in {CONFIGS[n][0] for n in names}:
                starts[label] = startup(kind, options)
                print(f"start-up {label}: {starts[label]}", flush=True)
    write_outputs(results, starts, note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
