"""FER+ (Barsoum et al., ICMI 2016): ten annotators' votes for every FER-2013 row, in fer2013.npz's row order.

One reader for `evaluate --labels ferplus`, bench/model_table.py and the trainer's soft targets.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import UserError
from ..labels import LABELS

DEFAULT_FERPLUS = Path("../shared/data/ferplus/ferplus.npz")
# FER+ vote columns -> our label; contempt has no class of ours, unknown and NF (not a face) are no emotion.
FERPLUS_MAP = {"neutral": "neutral", "happiness": "happy", "surprise": "surprise", "sadness": "sad",
               "anger": "angry", "disgust": "disgust", "fear": "fear"}
USAGE = {"train": 0, "publictest": 1, "privatetest": 2}


def default_ferplus_path() -> Path:
    from .data import find_shared

    found = find_shared(DEFAULT_FERPLUS)
    if found is None:
        raise UserError(f"no FER+ votes found at {DEFAULT_FERPLUS}: put ferplus.npz there (see ../shared/README.md)")
    return found


def load_votes(split: str, path: Path | None = None) -> tuple[np.ndarray, list[str]]:
    """(N, 10) int votes of one split and the column names."""
    path = Path(path) if path else default_ferplus_path()
    if split not in USAGE:
        raise UserError(f"FER+ has no split '{split}': use one of {', '.join(USAGE)}")
    try:
        with np.load(path, allow_pickle=False) as d:
            votes, usage, columns = d["votes"], d["usage"], [str(c) for c in d["columns"]]
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"cannot read {path} as FER+ votes ({exc}): re-download it") from None
    return votes[usage == USAGE[split]].astype(np.int64), columns


def ferplus_labels(n_rows: int, split: str = "publictest", path: Path | None = None) -> tuple[np.ndarray, dict]:
    """Majority FER+ label (our index) per row of `split`, -1 where the majority is no class of ours, and the
    drop counts. n_rows: the FER-2013 split's length, which must match (the rows are matched by position)."""
    votes, columns = load_votes(split, path)
    if len(votes) != n_rows:
        raise UserError(f"FER+ has {len(votes)} {split} rows, the FER-2013 data {n_rows}: use matching copies")
    top = np.argmax(votes, axis=1)  # the most-voted column of all ten; a tie goes to the column listed first
    names = np.array(columns)[top]
    out = np.array([LABELS.index(FERPLUS_MAP[c]) if c in FERPLUS_MAP else -1 for c in names])
    dropped = {c: int(np.sum(names == c)) for c in columns if c not in FERPLUS_MAP and np.any(names == c)}
    return out, dropped


def soft_targets(split: str = "train", path: Path | None = None) -> np.ndarray:
    """(N, 7) vote shares over our classes (contempt, unknown and NF votes dropped); all-zero rows where no
    annotator chose one of our classes."""
    votes, columns = load_votes(split, path)
    out = np.zeros((len(votes), len(LABELS)), np.float32)
    for j, c in enumerate(columns):
        if c in FERPLUS_MAP:
            out[:, LABELS.index(FERPLUS_MAP[c])] += votes[:, j]
    total = out.sum(axis=1, keepdims=True)
    return np.where(total > 0, out / np.maximum(total, 1), 0).astype(np.float32)
