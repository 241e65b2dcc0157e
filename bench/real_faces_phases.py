"""bench/real_faces.py's `app` row over several starting phases, for changes smaller than one run can show.

    .venv/bin/python bench/real_faces_phases.py [--tree CHECKOUT] [--phases 10] [--set calm_every=1 ...]

One run of real_faces.py is chaotic in anything that moves a box by a pixel: the same chain with detection
every 4th instead of every 5th frame, or each clip started 4 frames later, moves frame_share (all) by 2-12
points (docs/realtime.md). Here every clip is run from frame p = 0 .. phases - 1 (scored from its labelled start
as before) and the scores are averaged over p, with their spread; and "soft", the mean smoothed probability of
the clip's emotion on the largest face, which does not flip with the argmax. --tree runs another checkout's
code (e.g. `git archive COMMIT | tar -x -C /tmp/old`; it needs ../shared beside it); --set sets Pipeline
attributes (calm_every, search_every). Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--phases", type=int, default=10)
    ap.add_argument("--set", nargs="*", default=[], metavar="ATTR=VALUE")
    args = ap.parse_args(argv)
    sys.path[:0] = [str(args.tree), str(args.tree / "bench")]
    import numpy as np
    import real_faces as rf

    from emojicall.labels import label_index
    from emojicall.training import video_eval
    from emojicall.training.video_eval import clip_result, largest_label, read_labels

    clips, _ = read_labels(args.tree / "bench" / "real_video" / "labels.csv", None)
    decoded = [rf.decode(c) for c in clips]
    if hasattr(video_eval, "app_pipeline"):  # the app's builder; one pipeline, reset between clips
        shared = video_eval.app_pipeline()

        def new_pipeline():
            shared.reset()
            return shared
    else:  # an older checkout (--tree, before Pipeline.reset): its own builder, a new chain per clip
        from emojicall import build
        from emojicall.settings import Settings

        shared = None

        def new_pipeline():
            return build.build_pipeline(Settings(), detector_fallback=False)
    attrs = {k: float(v) if "." in v else int(v) for k, v in (kv.split("=") for kv in args.set)}
    splits = ("tune", "holdout", "all")
    share, soft, switches = {s: [] for s in splits}, {s: [] for s in splits}, []
    for phase in range(args.phases):
        results, softs = [], []
        for clip, (fps, frames) in zip(clips, decoded):
            pipe = new_pipeline()
            for k, v in attrs.items():
                setattr(pipe, k, v)
            shown, truth = [], []
            for i, frame in enumerate(frames[phase:], start=phase):
                faces = [f for f in pipe.process(frame)[1] if f.probs is not None]
                shown.append(largest_label(faces))
                if faces and i >= clip.start and (clip.end is None or i <= clip.end):
                    truth.append(float(max(faces, key=lambda f: f.area).probs[label_index(clip.emotion)]))
            results.append(clip_result(clip, fps, shown[max(0, clip.start - phase):]))
            if shared is None:
                pipe.close()
            softs.append(float(np.mean(truth)) if truth else 0.0)
        by = rf.by_split(results)
        for s in splits:
            share[s].append(by[s]["frame_share"])
            soft[s].append(float(np.mean([x for x, c in zip(softs, clips) if s == "all" or c.split == s])))
        switches.append(by["all"]["switches_per_s"])
    if shared is not None:
        shared.close()

    def sd(values):
        return round(statistics.stdev(values), 4) if len(values) > 1 else 0.0

    out = {"tree": str(args.tree), "set": args.set, "phases": args.phases,
           "switches_per_s": round(statistics.mean(switches), 3),
           **{s: {"frame_share": round(statistics.mean(share[s]), 4), "sd": sd(share[s]),
                  "soft": round(statistics.mean(soft[s]), 4)} for s in splits}}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
