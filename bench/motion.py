"""Jitter and lag of the drawn emoji, before (drawn at the tracker's box, as the compositor did before the One
Euro filter) and after, on real clips through the real chain: detector -> FlowTracker -> classifier ->
Compositor (emojicall.pipeline.Pipeline, detection every 5th frame).

- jitter: median movement of the drawn centre per frame, px (and of the drawn angle, degrees); on a still face
  all of it is noise.
- lag: the frame shift k that best lines up the drawn centre with the raw one (drawn[t] ~ raw[t - k]) and the
  mean distance between the two, px; on a moving face it is how far the emoji trails.

    .venv/bin/python bench/motion.py                # writes bench/motion.md
    .venv/bin/python bench/motion.py --grid         # also replays the recorded faces with other filter settings
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from compositing import read_frames  # noqa: E402 - bench/ is this script's folder
VIDEOS = ROOT.parent / "shared" / "media" / "videos"
CLIPS = [  # (clip, detector, what it shows)
    ("webcam/pyfeat_single_face_smile.mp4", "haar", "still head, expression changes"),
    ("bench_720p_closeup.mp4", "haar", "webcam close-up, small head moves"),
    ("webcam/pyfeat_single_face_smile.mp4", "blazeface", "still head, expression changes"),
    ("webcam/intel_head-pose-face-detection-female.gif", "blazeface", "head turns left, right, up"),
    ("webcam/intel_head-pose-face-detection-female-and-male.gif", "blazeface", "two heads rolling"),
]


def record(clip: str, detector: str):
    """Per frame: the pipeline's faces and the compositor's placements (one real run)."""
    from emojicall import build
    from emojicall.settings import Settings

    video = read_frames(VIDEOS / clip, 400)
    pipe = build.pipeline(Settings(detector=detector), detector_fallback=False)
    faces, drawn = [], []
    for frame in video:
        _, fs = pipe.process(frame)
        faces.append(fs)
        drawn.append(list(pipe.compositor.placements))
    pipe.close()
    return video[0].shape, faces, drawn


def replay(shape, faces):
    """The compositor's placements for recorded faces (to try other filter settings without re-detecting)."""
    from emojicall.compositor import Compositor
    from emojicall.emojis import bundled_pack

    comp, blank, out = Compositor(bundled_pack()), np.zeros(shape, np.uint8), []
    for fs in faces:
        comp.draw(blank, fs)
        out.append(list(comp.placements))
    return out


def series(faces, drawn):
    """Raw and drawn (cx, cy, side, angle) of the longest-lived track, on the frames where both exist."""
    from emojicall.compositor import roll_degrees

    counts: dict[int, int] = {}
    for fs in faces:
        for f in fs:
            counts[f.track_id] = counts.get(f.track_id, 0) + 1
    if not counts:
        return None
    tid = max(counts, key=counts.get)
    raw, out = [], []
    for fs, ps in zip(faces, drawn):
        f = next((f for f in fs if f.track_id == tid), None)
        p = next((p for p in ps if p.track_id == tid), None)
        if f is None or p is None:
            continue
        x, y, w, h = f.box
        roll = roll_degrees(f)
        raw.append((x + w / 2, y + h / 2, max(w, h), np.nan if roll is None else roll))
        out.append((p.cx, p.cy, p.side, p.angle))
    return np.array(raw), np.array(out)


def metrics(raw: np.ndarray, out: np.ndarray) -> dict:
    def jitter(s):
        return float(np.mean(np.linalg.norm(np.diff(s[:, :2], axis=0), axis=1)))

    def angle_jitter(s):
        d = np.abs(np.diff(s[:, 3]))
        d = d[np.isfinite(d)]
        return float(np.mean(d)) if len(d) else float("nan")

    errs = [np.mean(np.linalg.norm(out[k:, :2] - raw[:len(raw) - k, :2], axis=1)) for k in range(0, 9)]
    lag = int(np.argmin(errs))
    return {"frames": len(raw), "side": float(np.median(raw[:, 2])),
            "jitter_before": jitter(raw), "jitter_after": jitter(out),
            "angle_jitter_before": angle_jitter(raw), "angle_jitter_after": angle_jitter(out),
            "lag_frames": lag, "offset_px": float(errs[0]), "offset_at_lag_px": float(errs[lag])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "bench" / "motion.md"))
    ap.add_argument("--grid", action="store_true")
    args = ap.parse_args()
    from emojicall import compositor

    rows, grid_rows = [], []
    for clip, det, what in CLIPS:
        shape, faces, drawn = record(clip, det)
        s = series(faces, drawn)
        if s is None:
            rows.append(f"| `{clip}` | {det} | {what} | no face |")
            continue
        m = metrics(*s)
        print(clip, det, m, flush=True)
        rows.append(f"| `{clip}` | {det} | {what} | {m['frames']} | {m['side']:.0f} | "
                    f"{m['jitter_before']:.2f} / **{m['jitter_after']:.2f}** | "
                    + (f"{m['angle_jitter_before']:.2f} / **{m['angle_jitter_after']:.2f}** | "
                       if np.isfinite(m["angle_jitter_before"]) else "no landmarks | ") +
                    f"{m['lag_frames']} | {m['offset_px']:.1f} |")
        if args.grid:
            saved = dict(compositor.POS_FILTER)
            for mc in (0.5, 1.0, 2.0):
                for beta in (0.5, 1.5, 3.0, 6.0):
                    compositor.POS_FILTER.update(min_cutoff=mc, beta=beta)
                    g = metrics(*series(faces, replay(shape, faces)))
                    grid_rows.append(f"| `{clip}` {det} | {mc} | {beta} | {g['jitter_after']:.2f} | "
                                     f"{g['lag_frames']} | {g['offset_px']:.1f} |")
            compositor.POS_FILTER.clear()
            compositor.POS_FILTER.update(saved)
    text = ["# Emoji motion: jitter and lag, before and after the One Euro filter", "",
            "Made by `.venv/bin/python bench/motion.py` (see its docstring for the definitions). Real clips through "
            "the real chain (Pipeline: detector every 5th frame, FlowTracker, classifier, Compositor); the longest "
            "track of each clip. *Before* is the tracker's box centre and the detector's eye-line angle, where the "
            "compositor used to draw; *after* is what the compositor draws now.", "",
            f"Filter settings: position and size `{compositor.POS_FILTER}` (in face sides), angle "
            f"`{compositor.ANGLE_FILTER}` (degrees).", "",
            "| clip | detector | shows | frames | face px | jitter px/frame before / after | "
            "angle jitter deg/frame before / after | lag frames | mean distance to raw px |",
            "|---|---|---|---|---|---|---|---|---|", *rows, ""]
    if grid_rows:
        text += ["## Other settings, replayed on the same recorded faces", "",
                 "| clip | min_cutoff | beta | jitter px/frame | lag frames | mean distance px |",
                 "|---|---|---|---|---|---|", *grid_rows, ""]
    Path(args.out).write_text("\n".join(text))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
