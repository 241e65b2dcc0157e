"""`emojicall evaluate`: accuracy, per-class precision/recall/F1 and the confusion matrix of a model on a split,
through the same classifier code the app runs: the model's own output, and, where its meta.json has a call prior
("prior_shift"), the scores with it as the app shows them."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import jsonfile
from ..classifier import EmotionClassifier
from ..errors import UserError
from ..labels import LABELS
from .data import load_fer

LABEL_SETS = ("fer2013", "ferplus")


def scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    n = len(LABELS)
    confusion = np.zeros((n, n), dtype=np.int64)
    np.add.at(confusion, (y_true, y_pred), 1)
    per_class = {}
    for i, name in enumerate(LABELS):
        tp = confusion[i, i]
        precision = tp / confusion[:, i].sum() if confusion[:, i].sum() else 0.0
        recall = tp / confusion[i].sum() if confusion[i].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {"precision": round(float(precision), 4), "recall": round(float(recall), 4),
                           "f1": round(float(f1), 4), "support": int(confusion[i].sum())}
    return {"accuracy": round(float(np.trace(confusion) / max(1, confusion.sum())), 4),
            "macro_f1": round(float(np.mean([c["f1"] for c in per_class.values()])), 4),
            "per_class": per_class, "confusion": confusion.tolist(), "n": int(confusion.sum()),
            "labels": list(LABELS)}


def probabilities(classifier: EmotionClassifier, images: np.ndarray, batch: int = 256) -> np.ndarray:
    """(N, 7) probabilities for 48x48 FER images, resized to the model's input when it differs."""
    import cv2

    probs = []
    for start in range(0, len(images), batch):
        chunk = images[start:start + batch]
        if chunk.shape[1] != classifier.size:
            chunk = np.stack([cv2.resize(im, (classifier.size, classifier.size)) for im in chunk])
        probs.append(classifier.predict_crops(chunk[..., None].astype(np.float32)))
    return np.concatenate(probs)


def predict(classifier: EmotionClassifier, images: np.ndarray, batch: int = 256) -> np.ndarray:
    """Class indices for 48x48 FER images."""
    return np.argmax(probabilities(classifier, images, batch), axis=1)


def evaluate(model, data: Path, split: str, *, backend: str = "tflite", limit: int | None = None,
             json_out: Path | None = None, figures: Path | None = None, tta: bool = False,
             label_set: str = "fer2013", ferplus: Path | None = None) -> dict:
    """label_set 'ferplus': score against FER+'s 10-annotator majority instead of FER-2013's one label, on the
    rows whose majority is one of our 7 classes."""
    if label_set not in LABEL_SETS:
        raise UserError(f"unknown label set '{label_set}': use one of {', '.join(LABEL_SETS)}")
    classifier = EmotionClassifier(model, backend=backend, tta=tta)
    images, labels = load_fer(data, split)
    dropped = None
    if label_set == "ferplus":
        from .ferplus import ferplus_labels

        labels, dropped = ferplus_labels(len(images), split, ferplus)
        images, labels = images[labels >= 0], labels[labels >= 0]
    if limit:
        images, labels = images[:limit], labels[:limit]
    probs = probabilities(classifier, images)
    result = scores(labels, np.argmax(probs, axis=1))
    if classifier.prior.any():  # what the app shows, with the model's call prior: FER-2013's balance is not a call's
        shifted = scores(labels, np.argmax(classifier.adjust(probs), axis=1))
        result["with_call_prior"] = {"accuracy": shifted["accuracy"], "macro_f1": shifted["macro_f1"],
                                     "recall": {k: v["recall"] for k, v in shifted["per_class"].items()},
                                     "prior_shift": dict(zip(LABELS, map(float, classifier.prior)))}
    result.update(model=str(classifier.model_dir), split=split, backend=backend, tta=classifier.tta,
                  sees_mirror=bool(classifier.meta.get("sees_mirror")), label_set=label_set)
    if dropped is not None:
        result["ferplus_dropped"] = dropped
    print(report(result))
    write_json(result, json_out)
    if figures:
        from .figures import confusion_png, curves_png

        figures.mkdir(parents=True, exist_ok=True)
        name = classifier.model_dir.name
        confusion_png(result, figures / f"{name}_confusion.png")
        # A model made in stages (warm restarts) keeps the earlier stages' logs in history/, oldest first.
        logs = sorted((classifier.model_dir / "history").glob("*train_log.csv"))
        logs += [p for p in [classifier.model_dir / "train_log.csv"] if p.is_file()]
        if logs:
            curves_png(logs, figures / f"{name}_curves.png")
    return result


def write_json(result: dict, path: Path | None) -> None:
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        jsonfile.write(result, path)


def report(r: dict) -> str:
    tta = " + flip TTA" if r.get("tta") else " (one member on the mirror)" if r.get("sees_mirror") else ""
    plus = " with FER+ majority labels" if r.get("label_set") == "ferplus" else ""
    lines = [f"{r['model']} on {r['split']}{plus} ({r['n']} images, {r['backend']}{tta}): "
             f"accuracy {r['accuracy']:.4f}, "
             f"macro-F1 {r['macro_f1']:.4f}", f"{'class':<10}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}"]
    for name, c in r["per_class"].items():
        lines.append(f"{name:<10}{c['precision']:>10.3f}{c['recall']:>8.3f}{c['f1']:>8.3f}{c['support']:>9}")
    lines.append("confusion (rows true, columns predicted): " + " ".join(n[:3] for n in r["labels"]))
    for name, row in zip(r["labels"], r["confusion"]):
        lines.append(f"{name:<10}" + "".join(f"{v:>6}" for v in row))
    if r.get("with_call_prior"):
        c = r["with_call_prior"]
        lines.append(f"with the model's call prior (as the app shows it): accuracy {c['accuracy']:.4f}, macro-F1 "
                     f"{c['macro_f1']:.4f}, recall " + ", ".join(f"{k} {v:.3f}" for k, v in c["recall"].items()))
    return "\n".join(lines)

