"""Emotion-classifier runtime speed, run by hand: single-face latency (median ms) and batch-32 throughput
(faces/s) for every model folder under models/, through the app's EmotionClassifier (LiteRT, 1 and 2 threads),
against a Keras direct call and model.predict in the same run.

    .venv/bin/python bench/classifier.py [--models models] [--quant] [--repeats 200]

The shipped model.tflite is timed with and without flip TTA (a face and its mirror in one call: how the app
runs it). --quant also converts each model.keras to float32, dynamic-range int8 and float16 LiteRT copies (in a
temporary folder, never in models/), times them the same way and scores them against the float32 export on all
of PublicTest: a conversion is worth shipping only if it costs <= 0.5 accuracy point. A shipped quantized file
is always scored against its float32 export.
Writes bench/classifier.json and bench/classifier.md. Other processes on the machine skew the numbers: the load
average before and after is recorded beside them.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from emojicall.training import jsonfile  # noqa: E402
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from emojicall import model_files as mf  # noqa: E402
from emojicall.classifier import EmotionClassifier  # noqa: E402
from emojicall.training.data import load_fer  # noqa: E402

FER = ROOT.parent / "shared" / "data" / "fer2013" / "fer2013.npz"
BATCH = 32
QUANT = ("dynamic-int8", "float16")
MAX_DROP = 0.005  # accuracy a conversion may cost


def model_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / mf.META).is_file() and (p / mf.TFLITE).is_file())


def faces(size: int, n: int = BATCH) -> np.ndarray:
    """Real PublicTest faces at the model's input size, as the runtime feeds them: (n, S, S, 1) float32 0..255."""
    import cv2

    images, _ = load_fer(FER, "publictest")
    return np.stack([cv2.resize(im, (size, size)) for im in images[:n]])[..., None].astype(np.float32)


def median_s(fn, repeats: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def time_runner(fn, crops: np.ndarray, repeats: int) -> dict:
    one, batch = crops[:1], crops[:BATCH]
    single = median_s(lambda: fn(one), repeats)
    batched = median_s(lambda: fn(batch), max(10, repeats // 8))
    return {"single_ms": round(single * 1e3, 3), "batch32_faces_per_s": round(BATCH / batched, 1)}


def keras_rows(model_dir: Path, crops: np.ndarray, repeats: int) -> list[dict]:
    import keras

    with contextlib.redirect_stdout(io.StringIO()):
        model = keras.models.load_model(model_dir / mf.KERAS, safe_mode=True, compile=False)
    direct = time_runner(lambda b: np.asarray(model(b, training=False)), crops, repeats)
    # predict() builds a tf.data pipeline per call: the cost the app avoids; fewer repeats, it is slow.
    predict = time_runner(lambda b: model.predict(b, verbose=0), crops, max(20, repeats // 10))
    return [{"runtime": "keras direct call", **direct}, {"runtime": "keras model.predict", **predict}]


def quantized_copy(model_dir: Path, mode: str, dest: Path) -> Path:
    """A model folder beside `dest` holding model_dir's meta and a model.tflite exported as `mode`."""
    import keras

    from emojicall.training.export import export_tflite

    dest.mkdir(parents=True, exist_ok=True)
    with contextlib.redirect_stdout(io.StringIO()):
        model = keras.models.load_model(model_dir / mf.KERAS, safe_mode=True, compile=False)
    export_tflite(model, dest / mf.TFLITE, "none" if mode == "float32" else mode)
    meta = json.loads((model_dir / mf.META).read_text())
    meta["quantization"] = mode
    mf.write_meta(dest, meta)
    return dest


def accuracy_and_agreement(folder: Path, reference: Path) -> dict:
    from emojicall.training.evaluate import predict

    images, labels = load_fer(FER, "publictest")
    ref = predict(EmotionClassifier(reference), images)
    got = predict(EmotionClassifier(folder), images)
    return {"accuracy": round(float(np.mean(got == labels)), 4), "float_accuracy": round(float(np.mean(ref == labels)), 4),
            "agreement": round(float(np.mean(got == ref)), 4)}


def bench_model(model_dir: Path, repeats: int, quant: bool, tmp: Path) -> list[dict]:
    meta = mf.read_meta(model_dir)
    crops = faces(int(meta["input_size"]))
    base = {"model": model_dir.name, "arch": meta.get("arch"), "params": meta.get("params"),
            "input_size": meta["input_size"]}
    shipped = meta.get("quantization", "float32")
    variants = [(f"{shipped} (shipped)", model_dir)]
    if quant or shipped != "float32":  # a quantized file is always scored against its float32 export
        variants += [(m, quantized_copy(model_dir, m, tmp / f"{model_dir.name}-{m}"))
                     for m in ("float32",) + QUANT * quant if m != shipped]
    reference = next((folder for mode, folder in variants if mode.startswith("float32")), model_dir)
    rows = []
    for mode, folder in variants:
        size_mb = round((folder / mf.TFLITE).stat().st_size / 1e6, 2)
        extra = accuracy_and_agreement(folder, reference) if folder != reference else {}
        for threads in (1, 2):
            # The app runs the shipped file with TTA; a model that holds the mirror itself has no TTA row.
            for tta in (False, True) if folder == model_dir and not meta.get("sees_mirror") else (False,):
                clf = EmotionClassifier(folder, num_threads=threads, tta=tta)
                view = " (2nd net on the mirror)" if meta.get("sees_mirror") else " + flip TTA" * tta
                rows.append({**base, "runtime": f"LiteRT {mode}{view}, {threads} thread{'s' * (threads > 1)}",
                             "file_mb": size_mb, **time_runner(clf.predict_crops, crops, repeats), **extra})
                print(rows[-1], flush=True)
    if (model_dir / mf.KERAS).is_file():
        for row in keras_rows(model_dir, crops, repeats):
            rows.append({**base, **row})
            print(rows[-1], flush=True)
    return rows


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}


def markdown(result: dict) -> str:
    lines = ["# Emotion classifier runtime speed", "",
             f"`{result['command']}` on {result['machine']['cpu']} ({result['machine']['cores']} cores); "
             f"load average {result['load_before']} before, {result['load_after']} after "
             "(other processes share the CPU: compare rows of one run, not runs).", "",
             "| model | runtime | file MB | single face, median ms | batch 32, faces/s | PublicTest acc. "
             "| float acc. | agreement |",
             "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        acc = lambda k: f"{r[k]:.4f}" if k in r else ""  # noqa: E731
        lines.append(f"| {r['model']} ({r['arch']}, {r['input_size']} px) | {r['runtime']} | {r.get('file_mb', '')} "
                     f"| {r['single_ms']:.3f} | {r['batch32_faces_per_s']:.0f} | {acc('accuracy')} "
                     f"| {acc('float_accuracy')} | {acc('agreement')} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", type=Path, default=ROOT / "models", help="folder of model folders")
    ap.add_argument("--only", nargs="*", help="model folder names to run (default: all)")
    ap.add_argument("--quant", action="store_true", help="also time and score dynamic-int8 and float16 copies")
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "classifier")
    args = ap.parse_args(argv)
    dirs = [d for d in model_dirs(args.models) if not args.only or d.name in args.only]
    if not dirs:
        print(f"no model folder with meta.json and model.tflite under {args.models}", file=sys.stderr)
        return 2
    load_before = [round(x, 2) for x in os.getloadavg()]
    tmp = Path(tempfile.mkdtemp(prefix="emojicall-bench-"))
    try:
        rows = [row for d in dirs for row in bench_model(d, args.repeats, args.quant, tmp)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = {"command": " ".join(["python bench/classifier.py", *(argv if argv is not None else sys.argv[1:])]),
              "machine": machine(), "load_before": load_before,
              "load_after": [round(x, 2) for x in os.getloadavg()], "rows": rows}
    jsonfile.write(result, args.out.with_suffix(".json"))
    args.out.with_suffix(".md").write_text(markdown(result))
    print(f"wrote {args.out.with_suffix('.json')} and {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
