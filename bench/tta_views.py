"""Does test-time augmentation beyond the mirror pay? Run by hand on a model with a held-out TRAINING split.

    .venv/bin/python bench/tta_views.py MODEL_DIR [--val-fraction 0.1 --seed 1234]

Scores 16 views of each held-out face (the runtime's resize, zoom 0.95 / 1.1, +-2 px shifts, each mirrored)
through the app's LiteRT runtime, alone, as the runtime's pair (resize + mirror), all together, and in every
3- and 4-view set. The rows are the ones `emojicall train --seed S --val-fraction F` never trained on, so choosing views
here does not touch PublicTest. Writes bench/tta_views.md.
"""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emojicall.classifier import EmotionClassifier  # noqa: E402
from emojicall.training.data import default_data_path, load_fer, stratified_split  # noqa: E402

VIEWS = {"zoom 1.1": {"zoom": 1.1}, "zoom 0.95": {"zoom": 0.95}, "x+2": {"dx": 2}, "x-2": {"dx": -2},
         "y+2": {"dy": 2}, "y-2": {"dy": -2}, "warp id": {}}


def view(im: np.ndarray, size: int, zoom: float = 1.0, dx: float = 0, dy: float = 0) -> np.ndarray:
    """The face zoomed about its centre and shifted by (dx, dy) input pixels, sampled into size x size."""
    k = im.shape[0] / size / zoom  # input pixels per output pixel
    c = im.shape[0] / 2
    m = np.array([[k, 0, c - k * size / 2 + dx], [0, k, c - k * size / 2 + dy]], np.float32)
    return cv2.warpAffine(im, m, (size, size), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--val-fraction", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "tta_views.md")
    a = ap.parse_args()

    images, labels = load_fer(default_data_path(), "train")
    _, held = stratified_split(labels, a.val_fraction, a.seed)
    images, labels = images[held], labels[held]
    clf = EmotionClassifier(a.model)
    s = clf.size

    def probs(crops: np.ndarray) -> np.ndarray:
        return clf.predict_crops(np.ascontiguousarray(crops[..., None], dtype=np.float32))

    plain = np.stack([cv2.resize(im, (s, s)) for im in images])
    p = {"resize": probs(plain), "resize mirrored": probs(plain[:, :, ::-1])}
    for name, kw in VIEWS.items():
        warped = np.stack([view(im, s, **kw) for im in images])
        p[name], p[name + " mirrored"] = probs(warped), probs(warped[:, :, ::-1])

    def acc(names) -> float:
        return float((sum(p[n] for n in names).argmax(1) == labels).mean())

    runtime = ("resize", "resize mirrored")
    sets = [(acc(c), c) for r in (3, 4) for c in itertools.combinations(p, r)]
    sets.sort(reverse=True)
    lines = [f"# TTA views, {Path(a.model).name}, {len(labels)} held-out training faces "
             f"(--val-fraction {a.val_fraction} --seed {a.seed})", "",
             "| views | accuracy |", "|---|---|"]
    lines += [f"| {n} | {acc([n]):.4f} |" for n in p]
    lines += [f"| **the runtime's pair: resize + mirror** | **{acc(runtime):.4f}** |",
              f"| all {len(p)} views | {acc(list(p)):.4f} |",
              f"| mean of all {len(sets)} 3- and 4-view sets | {np.mean([x for x, _ in sets]):.4f} |"]
    lines += [f"| best set #{i + 1}: {' + '.join(c)} | {x:.4f} |" for i, (x, c) in enumerate(sets[:3])]
    se = np.sqrt(acc(runtime) * (1 - acc(runtime)) / len(labels))
    lines += ["", f"Standard error of one accuracy here: {se:.4f}. The best sets are the maxima of {len(sets)} "
              "noisy draws, so their lead over the pair is an upper bound, not an expected gain."]
    a.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
