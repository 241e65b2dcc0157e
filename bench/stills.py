"""EmojiCall's chain and the `fer` package on the labelled stills (../shared/media/stills/facial_expressions):
does a neutral face read neutral on people the project never chose by? Issue 24's item 3 and 6.

    .venv/bin/python bench/stills.py [--model M] [--shift neutral=1.0,angry=-0.5 ...]

Each photo is a tight face crop, so it is padded first (reflected, 30% a side) for a detector to see a whole
face. app: the default detector (MTCNN), the largest face, the model's calibrated crop, the classifier with the
model's meta "prior_shift" (the model's own output is cached, so shifts are scored without rerunning the CNN);
app (no prior): the same without the shift. fer: fer 25.x's FER(mtcnn=False, use_tflite=True) on the same
padded photo, largest face (run in FER_PYTHON's venv, as bench/real_faces.py does). A photo where no face is
found shows no emoji: it counts as wrong for everyone.

Split by `person` (sha1 of the name, even/odd): `choose` people are the only stills any choice (the prior shift)
is made on; `holdout` people are reported last and never chosen by. Scores: neutral->neutral (recall of
neutral), accuracy, mean per-class recall (fear has 13 photos and disgust doubtful labels: noise), face found.
Writes bench/stills.json and bench/stills.md; caches model outputs under runs/ (git-ignored).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from emojicall.training import jsonfile  # noqa: E402

from emojicall.classifier import shift_probs  # noqa: E402
from emojicall.labels import LABELS  # noqa: E402

STILLS = ROOT.parent / "shared" / "media" / "stills" / "facial_expressions"
PAD = 0.3
CACHE = ROOT / "runs"
FER_PYTHON = os.environ.get("FER_PYTHON", "/tmp/fervenv/bin/python")
FER_SCRIPT = r"""
import json, sys, cv2
from fer.fer import FER
fer, pad, out = FER(mtcnn=False, use_tflite=True), float(sys.argv[1]), []
for path in sys.argv[2:]:
    img = cv2.imread(path)
    p = int(round(pad * max(img.shape[:2])))
    found = fer.detect_emotions(cv2.copyMakeBorder(img, p, p, p, p, cv2.BORDER_REFLECT))
    big = max(found, key=lambda d: int(d["box"][2]) * int(d["box"][3])) if found else None
    out.append(max(big["emotions"], key=big["emotions"].get) if big else None)
print("FER_JSON" + json.dumps(out))
"""


def read_stills(folder: Path = STILLS):
    """(files, label indices, persons, split per photo: 'choose' | 'holdout')."""
    with open(folder / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    files = [folder / r["file"] for r in rows]
    y = np.array([LABELS.index(r["emotion"]) for r in rows])
    persons = [r["person"] for r in rows]
    return files, y, persons, np.array([person_split(p) for p in persons])


def person_split(person: str) -> str:
    return "holdout" if int(hashlib.sha1(person.encode()).hexdigest(), 16) % 2 else "choose"


def padded(path: Path) -> np.ndarray:
    img = cv2.imread(str(path))
    p = int(round(PAD * max(img.shape[:2])))
    return cv2.copyMakeBorder(img, p, p, p, p, cv2.BORDER_REFLECT)


def app_probs(files, model) -> np.ndarray:
    """(N, 7) the model's own probabilities for each photo's largest face (NaN: no face), cached per model."""
    from emojicall.crop import crop_batch
    from emojicall.training.video_eval import app_pipeline

    pipe = app_pipeline(None, model)  # the app's detector and classifier, as built for `run`
    det, clf = pipe.detector, pipe.classifier
    cache = CACHE / f"stills_{clf.model_dir.name}_{det.name}.npz"
    if cache.exists():
        pipe.close()
        return np.load(cache)["probs"]
    out = np.full((len(files), len(LABELS)), np.nan, np.float32)
    try:
        for i, path in enumerate(files):
            img = padded(path)
            faces = det.detect(img)
            if faces:
                big = max(faces, key=lambda f: f.area)
                crops = crop_batch(img, [big.box], clf.size, framing=clf.framing, landmarks=[big.landmarks])
                out[i] = clf.predict_crops(crops)[0]
            if i % 200 == 0:
                print(f"app {i}/{len(files)}", flush=True)
    finally:
        pipe.close()
    CACHE.mkdir(exist_ok=True)
    np.savez(cache, probs=out)
    return out


def fer_labels(files) -> np.ndarray:
    cache = CACHE / "stills_fer.json"
    if not cache.exists():
        if not Path(FER_PYTHON).exists():
            raise SystemExit(f"{FER_PYTHON} not found: see bench/real_faces.py for how to make fer's venv")
        proc = subprocess.run([FER_PYTHON, "-c", FER_SCRIPT, str(PAD), *map(str, files)], capture_output=True,
                              text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""})
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("FER_JSON")), None)
        if line is None:
            raise SystemExit(f"fer failed: {proc.stderr[-2000:]}")
        CACHE.mkdir(exist_ok=True)
        cache.write_text(line[len("FER_JSON"):])
    return np.array([LABELS.index(s) if s else -1 for s in json.loads(cache.read_text())])


def predictions(probs: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Class index per photo after the shift; -1 where no face was found."""
    found = ~np.isnan(probs[:, 0])
    pred = np.full(len(probs), -1)
    pred[found] = np.argmax(shift_probs(probs[found], shift), axis=1)
    return pred


def scores(y: np.ndarray, pred: np.ndarray) -> dict:
    recalls = {LABELS[c]: round(float(np.mean(pred[y == c] == c)), 4) for c in range(len(LABELS)) if np.any(y == c)}
    return {"neutral_to_neutral": recalls.get("neutral"), "accuracy": round(float(np.mean(pred == y)), 4),
            "mean_recall": round(float(np.mean(list(recalls.values()))), 4),
            "face_found": round(float(np.mean(pred >= 0)), 4), "n": int(len(y)), "recall": recalls,
            "neutral_read_as": {LABELS[c]: int(np.sum(pred[y == LABELS.index("neutral")] == c))
                                for c in range(len(LABELS))}}


def parse_shift(text: str | None) -> np.ndarray | None:
    if text is None:
        return None
    given = dict(kv.split("=") for kv in text.split(",") if kv)
    return np.array([float(given.get(name, 0.0)) for name in LABELS], np.float32)


def markdown(res: dict) -> str:
    lines = ["# Stills: a neutral face on people never chosen by", "",
             f"`{res['command']}` on `{res['stills']}` ({res['n']} photos, padded {PAD:.0%} a side by reflection; "
             "split by person: `choose` people are the only stills a choice was made on, `holdout` people are "
             "reported last). A photo where no face is found counts as wrong. fer: fer "
             "25.x, Haar + its mini-Xception, same padded photos.", ""]
    for split in ("choose", "holdout"):
        lines += [f"## {split}", "", "| config | neutral->neutral | accuracy | mean per-class recall | face found | "
                  "neutral read as (a, d, f, h, s, su, n) |", "|---|---|---|---|---|---|"]
        for name, s in res["splits"][split].items():
            lines.append(f"| {name} | {s['neutral_to_neutral']:.3f} | {s['accuracy']:.3f} | {s['mean_recall']:.3f} | "
                         f"{s['face_found']:.3f} | {', '.join(str(v) for v in s['neutral_read_as'].values())} |")
        lines.append("")
    lines += ["Per-class recall (holdout): " + "; ".join(
        f"{name}: " + ", ".join(f"{k} {v:.2f}" for k, v in s["recall"].items())
        for name, s in res["splits"]["holdout"].items()), "",
        f"prior shift of the app row: {json.dumps(res['prior_shift'])}"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="model folder or name (default: the app's)")
    ap.add_argument("--shift", help="score this prior shift instead of the model's meta, e.g. neutral=1.0")
    ap.add_argument("--no-fer", action="store_true", help="leave fer out")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "stills.json")
    ap.add_argument("--md", type=Path, default=ROOT / "bench" / "stills.md")
    args = ap.parse_args(argv)
    from emojicall import model_files as mf
    from emojicall.classifier import prior_shift

    files, y, persons, split = read_stills()
    probs = app_probs(files, args.model)
    shift = parse_shift(args.shift)
    if shift is None:
        shift = prior_shift(mf.read_meta(mf.resolve_model_dir(args.model)))
    configs = {"app": predictions(probs, shift), "app (no prior)": predictions(probs, np.zeros(len(LABELS)))}
    if not args.no_fer:
        configs["fer"] = fer_labels(files)
    res = {"command": " ".join(["python bench/stills.py", *(argv if argv is not None else sys.argv[1:])]),
           "stills": str(STILLS.relative_to(ROOT.parent)), "n": len(files),
           "people": {s: len({p for p, q in zip(persons, split) if q == s}) for s in ("choose", "holdout")},
           "prior_shift": dict(zip(LABELS, map(float, shift))),
           "splits": {s: {name: scores(y[split == s], pred[split == s]) for name, pred in configs.items()}
                      for s in ("choose", "holdout")}}
    for s in ("choose", "holdout"):
        print(s, {k: (v["neutral_to_neutral"], v["accuracy"], v["mean_recall"]) for k, v in res["splits"][s].items()})
    jsonfile.write(res, args.json)
    args.md.write_text(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
