"""Automatic calibration (emojicall.autocal) on vs off, through `emojicall evaluate --video`'s chain (run_app_chain:
each actor's baseline carried across their rows in order, as one longer call).

    .venv/bin/python bench/auto_calibration.py [--warmup 300 90 30]

Sets: the team's real-video set (bench/real_video/labels.csv; tune and holdout reported apart, holdout last) and
CREMA-D actor 1001's six clips played one after another as one person, neutral first and neutral last. --warmup:
near-neutral frames before the baseline is used; the shipped WARMUP first, shorter ones only to see which way the
baseline pushes on clips this short (no person in ../shared is on camera for more than 13 s). Writes
docs/auto_calibration.json and .md.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from emojicall import autocal  # noqa: E402
from emojicall.training import jsonfile  # noqa: E402
from emojicall.training.video_eval import app_pipeline, read_labels, run_app_chain, summarize  # noqa: E402

CREMA = ROOT.parent / "shared" / "media" / "videos" / "expressions" / "cremad_actor1001"
ORDER = ("ANG", "DIS", "FEA", "HAP", "SAD")
NAMES = {"ANG": "angry", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "SAD": "sad", "NEU": "neutral"}


def crema_csv(folder: Path, neutral_first: bool) -> Path:
    codes = ("NEU", *ORDER) if neutral_first else (*ORDER, "NEU")
    path = folder / f"cremad_neutral_{'first' if neutral_first else 'last'}.csv"
    path.write_text("file,emotion,actor\n" + "".join(f"{CREMA / f'1001_DFA_{c}_XX.flv'},{NAMES[c]},1001\n"
                                                     for c in codes))
    return path


def score(csv: Path, warmup: int | None) -> dict:
    clips, _ = read_labels(csv)
    pipe = app_pipeline(auto=warmup is not None)
    if warmup is not None:
        pipe.classifier.auto.warmup = warmup
    try:
        rows = run_app_chain(clips, pipe)
    finally:
        pipe.close()
    out = {split: summarize([r for r in rows if split == "all" or r["split"] == split])
           for split in ("tune", "holdout", "all") if split == "all" or any(r["split"] == split for r in rows)}
    per_clip = [{"file": r["file"], "emotion": r["emotion"], "share": r["share"], "most_read": r["most_read"],
                 "auto_frames": r.get("auto_frames", 0)} for r in rows]
    return {k: {m: v[m] for m in ("frame_share", "clip_accuracy", "clips_right", "n_clips", "switches_per_s")}
            for k, v in out.items()} | {"clips": per_clip}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--warmup", type=int, nargs="+", default=[autocal.WARMUP])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "auto_calibration")
    args = ap.parse_args(argv)
    t0 = time.time()
    res = {"command": "python bench/auto_calibration.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "load": [round(x, 2) for x in os.getloadavg()], "params": {k: getattr(autocal, k) for k in
                                                                       ("WARMUP", "TAU", "STEP", "GATE", "MAX_PUSH")},
           "sets": {}}
    with tempfile.TemporaryDirectory() as tmp:
        sets = {"team set (bench/real_video)": ROOT / "bench" / "real_video" / "labels.csv",
                "CREMA-D 1001, neutral first": crema_csv(Path(tmp), True),
                "CREMA-D 1001, neutral last": crema_csv(Path(tmp), False)}
        for name, csv in sets.items():
            res["sets"][name] = {"off": score(csv, None)} | {f"on, warmup {w}": score(csv, w) for w in args.warmup}
            print(name, {k: {s: (v[s]["frame_share"], v[s]["clips_right"]) for s in v if s != "clips"}
                         for k, v in res["sets"][name].items()}, flush=True)
    res["seconds"] = round(time.time() - t0, 1)
    jsonfile.write(res, args.out.with_suffix(".json"))
    args.out.with_suffix(".md").write_text(markdown(res))
    return 0


def markdown(res: dict) -> str:
    head = (f"`{res['command']}` (load average at start {res['load']}, {res['seconds']} s; parameters "
            f"{res['params']}). In brackets: the clip's face frames that used the learned baseline.")
    lines = ["# Automatic calibration on vs off", "", head, ""]
    for name, runs in res["sets"].items():
        lines += [f"## {name}", "", "| run | split | frame_share | clips right | switches/s |", "|---|---|---|---|---|"]
        for run, r in runs.items():
            lines += [f"| {run} | {s} | {v['frame_share']:.3f} | {v['clips_right']}/{v['n_clips']} | "
                      f"{v['switches_per_s']:.2f} |" for s, v in r.items() if s != "clips"]
        lines += ["", "| clip | emotion | " + " | ".join(runs) + " |", "|---|---|" + "---|" * len(runs)]
        first = next(iter(runs.values()))["clips"]
        for i, c in enumerate(first):
            cells = [f"{r['clips'][i]['share']:.2f} {r['clips'][i]['most_read']} ({r['clips'][i]['auto_frames']})"
                     for r in runs.values()]
            lines.append(f"| {c['file']} | {c['emotion']} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
