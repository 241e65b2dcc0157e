"""PNG figures for evaluation: confusion matrix and training curves (matplotlib, headless)."""
from __future__ import annotations

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
    ax.set_title(f"{Path(result['model']).name} on {result['split']}: accuracy {result['accuracy']:.3f}")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def curves_png(log_csv: Path, path: Path) -> None:
    from .evaluate import read_log

    plt = _plt()
    log = read_log(log_csv)
    epochs = [int(e) + 1 for e in log.get("epoch", [])]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    for key in ("accuracy", "val_accuracy"):
        if key in log:
            a1.plot(epochs, log[key], label=key)
    for key in ("loss", "val_loss"):
        if key in log:
            a2.plot(epochs, log[key], label=key)
    a1.set_xlabel("epoch"), a1.set_title("accuracy"), a1.legend()
    a2.set_xlabel("epoch"), a2.set_title("loss"), a2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
