"""Choose the model's call prior (meta.json "prior_shift", issue 24 item 3) and the calibration's neutral margin
(emojicall.calibration.NEUTRAL_MARGIN), from cached model outputs.

    .venv/bin/python bench/call_prior.py [--write] [--calibration]

Inputs, chosen by and nothing else: the stills' `choose` people (bench/stills.py's cache) and the `tune` rows
of bench/real_video/labels.csv, run once through the app's chain with the model's own output recorded per face
and frame (runs/, git-ignored); every candidate is then replayed through the app's smoother (emojicall.smoother)
without rerunning the CNN. Holdout people (stills and video) are never read here.
The prior: coordinate ascent over per-class log shifts in steps of 0.25 in [-2, 2], neutral first, maximising
  stills accuracy + stills mean per-class recall + video frame_share + video neutral-clip share
(choose / tune part), under two constraints (a penalty of 10 per unit short): neutral->neutral on the stills
>= NEUTRAL_MIN (issue 24's target is 0.70 on held-out people: 2 points of margin) and mean per-class recall no
lower than with no shift. --calibration: the tune split's frame_share with each actor calibrated on the first
half of their first neutral row (as `evaluate --video --calibrate` does), per neutral margin. --write stores the
prior in the model's meta.json.
"""
from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from emojicall.training import jsonfile  # noqa: E402

from emojicall.face import Face  # noqa: E402
from emojicall.labels import LABELS  # noqa: E402
from emojicall.smoother import EmotionSmoother  # noqa: E402
from emojicall.training.video_eval import clip_result, read_labels, summarize  # noqa: E402

from bench import stills  # noqa: E402

LABELS_CSV = ROOT / "bench" / "real_video" / "labels.csv"
NEUTRAL = LABELS.index("neutral")
NEUTRAL_MIN = 0.72


def record_video(clips, model=None) -> list[dict]:
    """Per clip: fps and, per frame from 0, the faces (track id, area, model output) and the active track ids."""
    from emojicall import build
    from emojicall.settings import Settings
    from emojicall.training.video_eval import app_pipeline, clip_frames

    clf = build.load_classifier(Settings(model=str(model or ""), calibration=False))
    seen: list = []  # the classifier's recorder hook gets each frame's faces and the model's own (unshifted) output
    clf.recorder = lambda faces, probs: seen.append([(f.track_id, f.area, p.copy()) for f, p in zip(faces, probs)])
    pipe = app_pipeline(None, model, classifier=clf)
    det, out = pipe.detector, []
    cache = stills.CACHE / f"video_{clf.model_dir.name}_{det.name}.pkl"
    known = pickle.loads(cache.read_bytes()) if cache.exists() else {}
    try:
        for clip in clips:
            key = (str(clip.file), clip.end)
            if key not in known:
                pipe.reset()
                fps, frames = clip_frames(clip)
                per_frame = []
                for _, frame in frames:
                    seen.clear()
                    pipe.process(frame)
                    per_frame.append((seen[0] if seen else [], set(pipe.tracker.active_ids)))
                known[key] = {"fps": fps, "frames": per_frame}
            out.append(known[key])
    finally:
        pipe.close()
    stills.CACHE.mkdir(exist_ok=True)
    cache.write_bytes(pickle.dumps(known))
    return out


def replay(rec: dict, shift: np.ndarray, smoother: EmotionSmoother | None = None) -> list[str | None]:
    """The largest face's shown label per frame, as the app's chain shows it with this shift."""
    from emojicall.classifier import shift_probs

    smoother = smoother or EmotionSmoother()
    shown = []
    for faces, active in rec["frames"]:
        objs = [Face(box=(0, 0, 1, 1), probs=shift_probs(p[None], shift)[0], track_id=t) for t, _, p in faces]
        smoother.update(objs, active)
        shown.append(LABELS[int(np.argmax(objs[int(np.argmax([a for _, a, _ in faces]))].probs))] if faces else None)
    return shown


def video_scores(clips, recs, shift) -> dict:
    results = [clip_result(c, r["fps"], replay(r, shift)[c.start:]) for c, r in zip(clips, recs)]
    s = summarize(results)
    neutral = [r["share"] for r in results if r["emotion"] == "neutral"]
    return {"frame_share": s["frame_share"], "clips_right": s["clips_right"], "n_clips": s["n_clips"],
            "switches_per_s": s["switches_per_s"], "neutral_share": round(float(np.mean(neutral)), 4)}


def objective(st: dict, vid: dict, base_recall: float) -> float:
    return (st["accuracy"] + st["mean_recall"] + vid["frame_share"] + vid["neutral_share"]
            - 10 * max(0.0, NEUTRAL_MIN - st["neutral_to_neutral"]) - 10 * max(0.0, base_recall - st["mean_recall"]))


def search(y, probs, clips, recs, steps=np.arange(-2.0, 2.01, 0.25)) -> tuple[np.ndarray, list]:
    shift, trail = np.zeros(len(LABELS), np.float32), []
    base_recall = stills.scores(y, stills.predictions(probs, shift))["mean_recall"]

    def score(s):
        st = stills.scores(y, stills.predictions(probs, s))
        return objective(st, video_scores(clips, recs, s), base_recall), st

    best = score(shift)[0]
    order = [NEUTRAL] + [i for i in range(len(LABELS)) if i != NEUTRAL]
    for _ in range(2):  # two rounds of coordinate ascent
        for c in order:
            for v in steps:
                cand = shift.copy()
                cand[c] = v
                val = score(cand)[0]
                if val > best + 1e-4:
                    best, shift = val, cand
            trail.append((LABELS[c], float(shift[c]), round(best, 4)))
            print(trail[-1], flush=True)
    return shift, trail


def calibrated_scores(clips, recs, prior, margins=(0.25, 0.5, 0.75, 1.0, 1.5),
                      floors=(1e-4, 0.05, 0.1, 0.2)) -> dict:
    """Tune-split frame_share and clips right with each actor calibrated on the first half of their first neutral
    row (that row scored on its second half; the offset replaces the prior, as in the app), per neutral margin and
    per floor on the resting probabilities (a floor above 1e-4 caps the boost of classes a calm face never shows)."""
    from emojicall import calibration

    out = {}
    for floor in floors:
        for margin in margins:
            calibration.NEUTRAL_MARGIN, calibration.FLOOR = margin, floor
            offsets, scored_from = {}, {}
            for i, (c, r) in enumerate(zip(clips, recs)):
                if c.emotion == "neutral" and c.actor not in offsets:
                    frames = r["frames"][c.start:]
                    half = len(frames) // 2
                    largest = [max(faces, key=lambda f: f[1])[2] for faces, _ in frames[:half] if faces]
                    if len(largest) >= calibration.MIN_FRAMES:  # else refused, as `evaluate --calibrate` does
                        offsets[c.actor], scored_from[i] = calibration.offset_from(np.array(largest)), c.start + half
            results = [clip_result(c, r["fps"], replay(r, offsets.get(c.actor, prior))[scored_from.get(i, c.start):])
                       for i, (c, r) in enumerate(zip(clips, recs))]
            s = summarize(results)
            key = f"floor {floor:g}, margin {margin:g}"
            out[key] = {"frame_share": s["frame_share"], "clips_right": s["clips_right"],
                        "shares": [r["share"] for r in results]}
            print("calibrated,", key, out[key], flush=True)
    return out


def main(argv=None) -> int:
    global NEUTRAL_MIN
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model")
    ap.add_argument("--write", action="store_true", help="store prior_shift in the model's meta.json")
    ap.add_argument("--calibration", action="store_true", help="also score per-person calibration margins")
    ap.add_argument("--neutral-min", type=float, default=NEUTRAL_MIN,
                    help=f"the stills' neutral->neutral constraint (default {NEUTRAL_MIN}; 0: none)")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "call_prior.json")
    args = ap.parse_args(argv)
    NEUTRAL_MIN = args.neutral_min
    files, y, _, split = stills.read_stills()
    probs = stills.app_probs(files, args.model)
    clips, _ = read_labels(LABELS_CSV, "tune")
    recs = record_video(clips, args.model)
    choose = split == "choose"
    zero = np.zeros(len(LABELS), np.float32)
    shift, trail = search(y[choose], probs[choose], clips, recs)
    res = {"shift": dict(zip(LABELS, map(float, shift))), "trail": trail,
           "stills_choose": stills.scores(y[choose], stills.predictions(probs[choose], shift)),
           "video_tune": video_scores(clips, recs, shift),
           "stills_choose_no_shift": stills.scores(y[choose], stills.predictions(probs[choose], zero)),
           "video_tune_no_shift": video_scores(clips, recs, zero)}
    if args.calibration:
        res["calibrated_tune"] = calibrated_scores(clips, recs, shift)
    res["neutral_min"] = NEUTRAL_MIN
    jsonfile.write(res, args.json)
    print(json.dumps({k: v for k, v in res.items() if k not in ("trail", "calibrated_tune")}, indent=1))
    if args.write:
        from emojicall import model_files as mf

        model_dir = mf.resolve_model_dir(args.model)
        meta = mf.read_meta(model_dir)
        meta["prior_shift"] = {k: v for k, v in res["shift"].items() if v}
        meta["prior_shift_chosen_by"] = "bench/call_prior.py (bench/call_prior.json)"
        (model_dir / mf.META).write_text(json.dumps(meta, indent=2) + "\n")
        print(f"wrote {model_dir / mf.META}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
