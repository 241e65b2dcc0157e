"""PNG figures for evaluation: confusion matrix and training curves (matplotlib, headless)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def confusion_png(result: dict, path: Path) -> None:
    plt = _plt()
    cm = np.array(result["confusion"], dtype=float)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    labels = result["labels"]
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center",
                    color="white" if norm[i, j] > 0.5 else "black", fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    tta = " + flip TTA" if result.get("tta") else ""
    ax.set_title(f"{Path(result['model']).name}{tta} on {result['split']}: accuracy {result['accuracy']:.3f}")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def read_log(path: Path) -> dict[str, list[float]]:
    """Columns of a Keras CSVLogger file; a column that is all NA (no validation split) is left out."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    cols = {k: [float("nan") if r[k] in ("NA", "") else float(r[k]) for r in rows] for k in (rows[0] if rows else {})}
    return {k: v for k, v in cols.items() if not all(x != x for x in v)}


def curves_png(log_csvs: Path | list[Path], path: Path) -> None:
    """Accuracy and loss per epoch; several logs (the stages of one model) are drawn end to end, with a dotted
    line where each later stage starts."""
    plt = _plt()
    logs = [read_log(p) for p in ([log_csvs] if isinstance(log_csvs, Path) else log_csvs)]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    start = 0
    for n, log in enumerate(logs):
        epochs = [start + int(e) + 1 for e in log.get("epoch", [])]
        for ax, keys in ((a1, ("accuracy", "val_accuracy")), (a2, ("loss", "val_loss"))):
            for key, color in zip(keys, ("C0", "C1")):
                if key in log:
                    ax.plot(epochs, log[key], color=color, label=key if n == 0 or key not in logs[0] else None)
            if n:
                ax.axvline(start + 0.5, color="grey", linestyle=":")
        start += len(epochs)
    a1.set_xlabel("epoch"), a1.set_title("accuracy"), a1.legend()
    a2.set_xlabel("epoch"), a2.set_title("loss"), a2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
