"""How far the tracker's flow carries a box off the face, and what the flow costs, for flow settings to choose
between (run by hand; writes bench/flow_error.md).

The reference is MTCNN (the app's detector, LiteRT) on every frame of three real clips. From every 15th frame
that has one face, the detector's box there is carried 14 frames by emojicall.tracker's own flow (FlowTracker,
nothing re-detected), as between two detections in the app, and compared with the detector's box 14 frames
on: the centre's distance as a share of the face's side. CPU is the flow alone (prepare excluded), process
time per frame, back to back.

    .venv/bin/python bench/flow_error.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VIDEOS = ROOT.parent / "shared" / "media" / "videos"
CLIPS = ["bench_720p_closeup.mp4", "bench_720p.mp4", "bench_480p.mp4",
         "webcam/intel_head-pose-face-detection-female.gif"]
SPAN, EVERY = 14, 15
# name -> tracker module settings
VARIANTS = {
    "before: 20 points, 15 px window, 2 levels, 20 iterations, forward-backward check": {"win": 15},
    "10 iterations": {"win": 15, "iters": 10},
    "12 points": {"win": 15, "points": 12},
    "**now**: 11 px window": {},
    "11 px window, 10 iterations": {"iters": 10},
    "one forward pass, points kept within 1.5 px of the median motion and scale": {"forward": 1.5},
    "one forward pass, within 2 px": {"forward": 2.0},
    "one forward pass, within 3 px": {"forward": 3.0},
}


def frames_of(clip: Path, limit: int = 400) -> list:
    import cv2

    cap, out = cv2.VideoCapture(str(clip)), []
    while len(out) < limit:
        ok, f = cap.read()
        if not ok:
            break
        out.append(f)
    return out


def reference(frames) -> list:
    from emojicall import build
    from emojicall.settings import Settings

    det, _ = build.load_detector(Settings().detector, fallback=False, warn=lambda *a: None)
    return [[f.box for f in det.detect(fr)] for fr in frames]


def configure(v: dict) -> None:
    import cv2

    from emojicall import tracker

    tracker.MAX_POINTS = v.get("points", 20)
    tracker._LK = dict(winSize=(v.get("win", 11),) * 2, maxLevel=2,
                       criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, v.get("iters", 20), 0.03))
    tracker._flow_box = APP_FLOW
    if "forward" in v:
        from functools import partial

        tracker._flow_box = partial(_forward_only, residual=v["forward"])


def _forward_only(prev, cur, box, pts, scale, residual):
    """The alternative tried: one LK pass; a point is kept while it lands within `residual` px of where the
    median shift and scale put it. Half the CPU, but 0.3-0.7 points of real-video frame share (docs/realtime.md)."""
    import cv2

    from emojicall.tracker import _LK

    nxt, st, _ = cv2.calcOpticalFlowPyrLK(prev, cur, pts, None, **_LK)
    good = st.ravel() == 1
    if good.sum() < 4:
        return box, pts[good] if good.any() else None
    p0, p1 = pts[good].reshape(-1, 2), nxt[good].reshape(-1, 2)
    c0, c1 = np.median(p0, axis=0), np.median(p1, axis=0)
    d0, d1 = np.linalg.norm(p0 - c0, axis=1), np.linalg.norm(p1 - c1, axis=1)
    spread = d0 > 1.0
    s = float(np.clip(np.median(d1[spread] / d0[spread]), 0.8, 1.25)) if spread.sum() >= 4 else 1.0
    keep = np.linalg.norm(p1 - (c1 + s * (p0 - c0)), axis=1) < residual
    p0, p1 = p0[keep], p1[keep].reshape(-1, 1, 2).astype(np.float32)
    if len(p1) < 4:
        return box, p1 if len(p1) else None
    shift = np.median(p1.reshape(-1, 2) - p0, axis=0) / scale
    x, y, w, h = box
    cx, cy = x + w / 2 + shift[0], y + h / 2 + shift[1]
    return np.array([cx - w * s / 2, cy - h * s / 2, w * s, h * s]), p1


def carry(frames, refs):
    """(errors as share of side, flow CPU ms a frame) for every 15th frame with one face."""
    from emojicall import tracker
    from emojicall.face import Face

    errs, cpu, steps = [], 0.0, 0
    for s in range(0, len(frames) - SPAN, EVERY):
        if len(refs[s]) != 1 or len(refs[s + SPAN]) != 1:
            continue
        tr = tracker.FlowTracker(max_points=tracker.MAX_POINTS)
        tr.predict(tr.prepare(frames[s]))
        tr.update([Face(box=refs[s][0], score=1.0)])
        grays = [tr.prepare(f) for f in frames[s + 1:s + SPAN + 1]]
        t = time.process_time()
        for g in grays:
            tr.predict(g)
        cpu, steps = cpu + time.process_time() - t, steps + SPAN
        box = tr.boxes[0] if tr.boxes else None
        rx, ry, rw, rh = refs[s + SPAN][0]
        if box is None:
            errs.append(1.0)
            continue
        x, y, w, h = box
        errs.append(np.hypot(x + w / 2 - rx - rw / 2, y + h / 2 - ry - rh / 2) / max(rw, rh))
    return errs, 1000 * cpu / max(1, steps)


def main() -> int:
    import cv2

    global APP_FLOW
    from emojicall import tracker

    APP_FLOW = tracker._flow_box

    cv2.setNumThreads(1)
    data = []
    for name in CLIPS:
        frames = frames_of(VIDEOS / name)
        data.append((name, frames, reference(frames)))
    rows = []
    for label, v in VARIANTS.items():
        configure(v)
        per_clip, all_errs, cpus = [], [], []
        for name, frames, refs in data:
            errs, ms = carry(frames, refs)
            per_clip.append(f"{100 * np.median(errs):.1f}")
            all_errs += errs
            cpus.append(ms)
        rows.append(f"| {label} | {' / '.join(per_clip)} | {100 * np.median(all_errs):.2f} | "
                    f"{100 * np.percentile(all_errs, 90):.1f} | {np.mean(cpus):.3f} |")
        print(rows[-1], flush=True)
    text = ("# Flow settings: error after 14 frames and CPU (bench/flow_error.py, "
            f"{time.strftime('%Y-%m-%d %H:%M')})\n\nClips: {', '.join(CLIPS)}; from every {EVERY}th frame with one "
            f"face, the MTCNN box carried {SPAN} frames by flow against MTCNN's box there.\n\n"
            "| flow | median error per clip, % of face side | median, all | p90 | flow CPU ms a frame |\n"
            "|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    (ROOT / "bench" / "flow_error.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
