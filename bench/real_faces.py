"""EmojiCall's default chain against the `fer` package on the labelled real clips (bench/real_video/labels.csv),
in one run of one script: issue 15's item-5 table.

    .venv/bin/python bench/real_faces.py [--configs app fer app_uncalibrated ...] [--model M]

Every clip is decoded once, here; the same frames go to every configuration:
- app: emojicall.pipeline.Pipeline exactly as `emojicall run` builds it (default detector, model, flip TTA,
  detect every 5th frame, tracker, per-detector calibrated crop, smoother), detection synchronous.
- app_uncalibrated: the same chain with the old crop (the box's square + 10% a side), the baseline of the crop fix.
- app_no_prior: the app without the model's call prior (meta "prior_shift"): the model's own output.
- app_calibrate: `emojicall evaluate --video --calibrate`: each actor calibrated (emojicall.calibration) on the first
  half of their first neutral row, which is scored on its second half; actors without one run as `app`.
- app_auto: the app with automatic calibration on (emojicall.autocal; off by default), each actor's baseline
  carried across their rows in order, as `emojicall evaluate --video --auto-calibration` does.
- fer: fer 25.x's FER(mtcnn=False, use_tflite=True).detect_emotions on every frame (Haar + its bundled
  mini-Xception, no smoothing), run in its own venv (FER_PYTHON, default /tmp/fervenv/bin/python; make it with
  `python3 -m venv /tmp/fervenv && /tmp/fervenv/bin/pip install --no-deps fer==25.10.3` and a .pth file in its
  site-packages naming this project's venv site-packages: fer 25.10's own dependencies pull torch and CUDA wheels
  for an MTCNN it does not use here, while TensorFlow and OpenCV, which it does use, are in the project's venv).
Per clip and overall, the scores of `emojicall evaluate --video` (emojicall.training.video_eval), per split
(tune: what choices were made on; holdout: reported last). Also ms a face for the classifier stage (crop + LiteRT
with TTA, one thread): median over the run's faces. Writes docs/real_faces.json and docs/real_faces.md.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from emojicall.training import jsonfile  # noqa: E402

from emojicall.labels import LABELS  # noqa: E402
from emojicall.training.video_eval import Clip, clip_result, largest_label, read_labels, summarize  # noqa: E402

FER_PYTHON = os.environ.get("FER_PYTHON", "/tmp/fervenv/bin/python")
# Run in fer's venv: frames from .npy files in, the largest face's emotion per frame out (JSON on stdout).
FER_SCRIPT = r"""
import json, sys, numpy as np
from fer.fer import FER
fer = FER(mtcnn=False, use_tflite=True)
out = []
for path in sys.argv[1:]:
    frames = np.load(path)
    labels = []
    for f in frames:
        found = fer.detect_emotions(f)
        if found:
            big = max(found, key=lambda d: int(d["box"][2]) * int(d["box"][3]))
            labels.append(max(big["emotions"], key=big["emotions"].get))
        else:
            labels.append(None)
    out.append(labels)
print("FER_JSON" + json.dumps(out))
"""


def decode(clip: Clip):
    from emojicall.training.video_eval import clip_frames

    fps, frames = clip_frames(clip)
    return fps, [f for _, f in frames]


class TimedClassifier:
    """Wraps EmotionClassifier.classify to time the classifier stage per face (crop + model, TTA included)."""

    def __init__(self, clf):
        self._clf, self.ms = clf, []

    def __getattr__(self, name):
        return getattr(self._clf, name)

    def classify(self, frame, faces):
        t = time.perf_counter()
        out = self._clf.classify(frame, faces)
        if faces:
            self.ms.append((time.perf_counter() - t) * 1e3 / len(faces))
        return out


def run_app(clips, decoded, model, calibrated: bool, override: dict | None = None, detector: str | None = None,
            no_prior: bool = False):
    from emojicall import build
    from emojicall.detectors import DEFAULT
    from emojicall.settings import Settings
    from emojicall.training.video_eval import app_pipeline

    clf = build.load_classifier(Settings(model=str(model or ""), calibration=False))
    if no_prior:
        clf.prior[:] = 0
    if not calibrated:  # the old crop: no framing for Pipeline's use_detector() to pick
        clf.framings = {}
    if override:  # app:scale=1.1,align=0 ... : the calibrated framing with some fields replaced
        from dataclasses import replace

        from emojicall.crop import Framing
        name = detector or DEFAULT
        clf.framings = {name: replace(clf.framings.get(name, Framing()), **override)}
    # The app's chain with the classifier timed; Pipeline picks the detector's framing itself (use_detector).
    timed = TimedClassifier(clf)
    pipe = app_pipeline(detector, model, classifier=timed)
    det = pipe.detector
    results = []
    try:
        for clip, (fps, frames) in zip(clips, decoded):
            pipe.reset()
            shown = [largest_label(pipe.process(f)[1]) for f in frames]
            results.append(clip_result(clip, fps, shown[clip.start:]))
    finally:
        pipe.close()
    info = {"detector": det.name, "model": clf.model_dir.name, "tta": clf.tta,
            "ms_per_face_fixed": one_face_ms(clf, decoded),
            "framing": (clf.framing.__dict__ if clf.framing else "uncalibrated (box square + 10%)"),
            "ms_per_face_median": round(float(np.median(timed.ms)), 3) if timed.ms else None}
    return results, info


def run_app_calibrate(clips, auto: bool = False):
    from emojicall.training.video_eval import app_pipeline, run_app_chain

    pipe = app_pipeline(auto=auto)
    try:
        results = run_app_chain(clips, pipe, calibrate=not auto)
    finally:
        pipe.close()
    key, values = ("auto_frames", [r["auto_frames"] for r in results]) if auto else \
        ("calibrated", [r["calibrated"] for r in results])
    return results, {"detector": pipe.detector.name, "model": pipe.classifier.model_dir.name, key: values}


def one_face_ms(clf, decoded, n: int = 300) -> float:
    """Median ms of classify() (crop + LiteRT + TTA, one thread) on one real face, repeated: steadier on a
    shared CPU than the in-run times."""
    from emojicall.face import Face

    frame = decoded[0][1][0]
    h, w = frame.shape[:2]
    face = Face(box=(w // 3, h // 4, h // 2, h // 2), landmarks={"left_eye": (w // 3 + h // 8, h // 4 + h // 6),
                                                                  "right_eye": (w // 3 + 3 * h // 8, h // 4 + h // 6)})
    times = []
    for _ in range(n):
        t = time.perf_counter()
        clf.classify(frame, [face])
        times.append(time.perf_counter() - t)
    return round(float(np.median(times)) * 1e3, 3)


def run_fer(clips, decoded):
    if not Path(FER_PYTHON).exists():
        raise SystemExit(f"{FER_PYTHON} not found: python3 -m venv /tmp/fervenv && /tmp/fervenv/bin/pip install fer")
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, (_, frames) in enumerate(decoded):
            p = Path(tmp) / f"{i}.npy"
            np.save(p, np.stack(frames))
            paths.append(str(p))
        proc = subprocess.run([FER_PYTHON, "-c", FER_SCRIPT, *paths], capture_output=True, text=True, timeout=3000,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""})
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("FER_JSON")), None)
    if line is None:
        raise SystemExit(f"fer failed: {proc.stderr[-2000:]}")
    per_clip = json.loads(line[len("FER_JSON"):])
    results = [clip_result(clip, fps, labels[clip.start:]) for clip, (fps, _), labels in zip(clips, decoded, per_clip)]
    import re
    version = re.search(r"fer==?(\S+)", subprocess.run([FER_PYTHON, "-m", "pip", "freeze"], capture_output=True,
                                                        text=True).stdout)
    return results, {"detector": "haar (fer's)", "model": "fer mini-Xception (tflite)", "tta": False,
                     "fer_version": version.group(1) if version else "?", "smoothing": "none"}


def by_split(results: list[dict]) -> dict:
    out = {}
    for split in ("tune", "holdout", None):
        rows = [r for r in results if split is None or r["split"] == split]
        if rows:
            out[split or "all"] = summarize(rows)
    return out


def markdown(res: dict) -> str:
    env = f"EMOJICALL_MODEL={res['EMOJICALL_MODEL']} " if res.get("EMOJICALL_MODEL") else ""
    lines = ["# Real-video scores: EmojiCall's chain vs the `fer` package", "",
             f"`{env}{res['command']}` (load average at start {res['load']}). Clips: `{res['labels']}` "
             f"({res['n_clips']} rows; how they were labelled: bench/real_video/README.md). "
             "Same decoded frames for every row. frame_share: mean over clips of the share of face frames whose "
             "largest face shows the clip's emotion; clip_accuracy: clips whose most frequent emoji is right; "
             "switches/s: changes of the largest face's emoji per second, mean over clips.", ""]
    for split in ("tune", "holdout", "all"):
        lines += [f"## {split}", "", "| config | frame_share | clip_accuracy | clips right | switches/s | frame acc. |",
                  "|---|---|---|---|---|---|"]
        for name, c in res["configs"].items():
            s = c["splits"].get(split)
            if s:
                lines.append(f"| {name} | {s['frame_share']:.3f} | {s['clip_accuracy']:.3f} | "
                             f"{s['clips_right']}/{s['n_clips']} | {s['switches_per_s']:.2f} | {s['accuracy']:.3f} |")
        lines.append("")
    lines += ["## per clip (share / most read)", "",
              "| clip | emotion | split | " + " | ".join(res["configs"]) + " |",
              "|---|---|---|" + "---|" * len(res["configs"])]
    names = list(res["configs"])
    for i, clip in enumerate(res["configs"][names[0]]["clips"]):
        cells = [f"{res['configs'][n]['clips'][i]['share']:.2f} / {res['configs'][n]['clips'][i]['most_read']}"
                 for n in names]
        lines.append(f"| {clip['file']} | {clip['emotion']} | {clip['split']} | " + " | ".join(cells) + " |")
    lines += ["", "## configs", ""] + [f"- **{n}**: {json.dumps(c['info'])}" for n, c in res["configs"].items()]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--labels", type=Path, default=ROOT / "bench" / "real_video" / "labels.csv")
    ap.add_argument("--configs", nargs="+", default=["app", "app_calibrate", "app_no_prior", "fer"],
                    help="app | app_calibrate | app_auto | app_no_prior | app_uncalibrated | fer | app:FIELD=V,... (the calibrated framing with fields of "
                         "emojicall.crop.Framing replaced, e.g. app:scale=1.1,align=0; model=M: another model)")
    ap.add_argument("--split", help="score only the rows of this split (e.g. tune, while choosing)")
    ap.add_argument("--model", action="append", help="extra app rows with this model (repeatable)")
    ap.add_argument("--json", type=Path, default=ROOT / "docs" / "real_faces.json")
    ap.add_argument("--md", type=Path, default=ROOT / "docs" / "real_faces.md")
    args = ap.parse_args(argv)
    clips, notes = read_labels(args.labels, args.split)
    decoded = [decode(c) for c in clips]
    res = {"command": "python bench/real_faces.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "load": [round(x, 2) for x in os.getloadavg()], "EMOJICALL_MODEL": os.environ.get("EMOJICALL_MODEL"),
           "labels": str(args.labels.relative_to(ROOT)),
           "n_clips": len(clips), "notes": notes, "configs": {}}
    jobs = [(c, None) for c in args.configs] + [("app", m) for m in (args.model or [])]
    for config, model in jobs:
        if config == "fer":
            results, info = run_fer(clips, decoded)
        elif config in ("app_calibrate", "app_auto"):
            results, info = run_app_calibrate(clips, auto=config == "app_auto")
        elif config.split(":")[0] in ("app", "app_uncalibrated", "app_no_prior"):
            base, _, opts = config.partition(":")
            override = dict(o.split("=") for o in opts.split(",") if o)
            model = override.pop("model", model)
            detector = override.pop("detector", None)
            override = {k: (bool(int(v)) if k == "align" else float(v)) for k, v in override.items()}
            results, info = run_app(clips, decoded, model, calibrated=base != "app_uncalibrated",
                                    override=override, detector=detector, no_prior=base == "app_no_prior")
        else:
            raise SystemExit(f"unknown config {config}: use app, app_calibrate, app_auto, app_no_prior, app_uncalibrated or fer")
        name = config if model is None or "model=" in config else f"{config} ({Path(model).name})"
        clips_out = [{k: v for k, v in r.items() if k != "shown"} for r in results]
        res["configs"][name] = {"info": info, "splits": by_split(results), "clips": clips_out,
                                "confusion_all": summarize(results)["confusion"]}
        s = res["configs"][name]["splits"]
        print(name, {k: (v["frame_share"], v["clip_accuracy"], v["switches_per_s"]) for k, v in s.items()}, flush=True)
    res["labels_order"] = list(LABELS)
    jsonfile.write(res, args.json)
    args.md.write_text(markdown(res))
    print(f"wrote {args.json} and {args.md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
