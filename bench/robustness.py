"""How much a model's PublicTest accuracy moves when the face is framed a little differently (issue 15, item 4).

    .venv/bin/python bench/robustness.py [--models fernet fernet_rw ...]

Every PublicTest face is re-framed as a detector box slightly off the FER framing would frame it: the square
of side scale x 48 px, centred at the image centre shifted by (sx, sy) x 48 px, taken by the app's own crop
(emojicall.crop.crop_square: edge replicated outside the image) at the model's input size, then classified by
the app's classifier (LiteRT, flip TTA, as the app runs it). Scales 0.85-1.15 (step 0.05), shifts -8..+8% in x
and in y (step 4%). Writes bench/robustness.json and docs/figures/robustness.png; the target is a spread
(max - min accuracy over all those framings) of at most 2 points.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from emojicall.training import jsonfile  # noqa: E402

from emojicall.classifier import EmotionClassifier  # noqa: E402
from emojicall.crop import crop_square  # noqa: E402
from emojicall.training.data import default_data_path, load_fer  # noqa: E402

SCALES = (0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15)
SHIFTS = (-0.08, -0.04, 0.0, 0.04, 0.08)


def reframed(images: np.ndarray, size: int, scale: float, sx: float, sy: float) -> np.ndarray:
    out = np.empty((len(images), size, size, 1), np.float32)
    for i, im in enumerate(images):
        out[i, ..., 0] = crop_square(im, 24 + sx * 48, 24 + sy * 48, scale * 48, size)
    return out


def accuracy(clf: EmotionClassifier, x: np.ndarray, y: np.ndarray, batch: int = 512) -> float:
    pred = np.concatenate([np.argmax(clf.predict_crops(x[i:i + batch]), axis=1) for i in range(0, len(x), batch)])
    return round(float(np.mean(pred == y)), 4)


def measure(model: str, images: np.ndarray, labels: np.ndarray) -> dict:
    clf = EmotionClassifier(model, tta=True)
    r = {"model": clf.model_dir.name, "scale": {}, "shift_x": {}, "shift_y": {}}
    for s in SCALES:
        r["scale"][str(s)] = accuracy(clf, reframed(images, clf.size, s, 0, 0), labels)
    for d in SHIFTS:
        r["shift_x"][str(d)] = accuracy(clf, reframed(images, clf.size, 1.0, d, 0), labels)
        r["shift_y"][str(d)] = accuracy(clf, reframed(images, clf.size, 1.0, 0, d), labels)
    values = [v for k in ("scale", "shift_x", "shift_y") for v in r[k].values()]
    r["identity"] = r["scale"]["1.0"]
    r["min"], r["max"] = min(values), max(values)
    r["spread_points"] = round(100 * (r["max"] - r["min"]), 2)
    print(r, flush=True)
    return r


def figure(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), sharey=True)
    for ax, key, title in zip(axes, ("scale", "shift_x", "shift_y"),
                              ("frame side / FER's", "shift x (share of side)", "shift y (share of side)")):
        for r in rows:
            xs = [float(k) for k in r[key]]
            ax.plot(xs, [100 * v for v in r[key].values()], marker="o",
                    label=f"{r['model']} (spread {r['spread_points']:.1f} pt)")
        ax.set_xlabel(title)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("PublicTest accuracy, % (LiteRT + TTA)")
    axes[0].legend(fontsize=8)
    fig.suptitle("Accuracy when the face is framed off the FER-2013 framing")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["fernet"])
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "robustness.json")
    ap.add_argument("--figure", type=Path, default=ROOT / "docs" / "figures" / "robustness.png")
    args = ap.parse_args(argv)
    images, labels = load_fer(default_data_path(), "publictest")
    rows = [measure(m, images, labels) for m in args.models]
    jsonfile.write({"command": "python bench/robustness.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                    "rows": rows}, args.json)
    figure(rows, args.figure)
    print(f"wrote {args.json} and {args.figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
