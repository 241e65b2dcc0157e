"""Scoring detectors against annotated face boxes (the tests and bench/detectors.py share it): greedy matching
by score at an IoU threshold, where detections of small or ignored faces count neither for nor against."""
from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from ..face import Face, iou

Truth = list[tuple[tuple[int, int, int, int], bool]]  # (box, counted) per annotated face of one image


def load_boxes(csv_path: Path, min_size: int = 20) -> dict[str, Truth]:
    """image path as the CSV writes it -> its faces; faces under min_size or marked ignore are not counted."""
    gt: dict[str, Truth] = defaultdict(list)
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            box = tuple(int(float(row[k])) for k in ("x", "y", "w", "h"))
            gt[row["image"]].append((box, row["ignore"] != "1" and min(box[2], box[3]) >= min_size))
    return dict(gt)


def match(detections: list[Face], truth: Truth, thr: float = 0.5) -> list[tuple[float, str, int | None]]:
    """Per detection, best score first: (score, 'tp' | 'fp' | 'skip', index of the matched face or None)."""
    used, out = set(), []
    for det in sorted(detections, key=lambda f: -f.score):
        best, best_i = 0.0, None
        for i, (box, _) in enumerate(truth):
            if i not in used and (o := iou(det.box, box)) > best:
                best, best_i = o, i
        if best >= thr:
            used.add(best_i)
            out.append((det.score, "tp" if truth[best_i][1] else "skip", best_i))
        else:
            out.append((det.score, "fp", None))
    return out
