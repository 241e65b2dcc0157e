"""Ground-truth face boxes from ../shared/media/face_boxes and greedy IoU matching, for detector tests."""
import csv
from collections import defaultdict
from pathlib import Path

from emojicall.face import iou


def load_gt(root: Path, csv_name: str = "annotations.csv", min_size: int = 20) -> dict[str, list]:
    """image path -> list of (box, counted) where counted is False for small or ignored faces."""
    gt = defaultdict(list)
    with open(root / csv_name, newline="") as f:
        for row in csv.DictReader(f):
            box = tuple(int(float(row[k])) for k in ("x", "y", "w", "h"))
            counted = row["ignore"] != "1" and min(box[2], box[3]) >= min_size
            gt[str(root / row["image"])].append((box, counted))
    return dict(gt)


def match(detections, gt, thr: float = 0.5) -> tuple[int, int, int]:
    """(TP, FP, FN): detections matching small/ignored faces are neither TP nor FP."""
    used, tp, fp = set(), 0, 0
    for det in sorted(detections, key=lambda f: -f.score):
        best, best_i = 0.0, None
        for i, (box, _) in enumerate(gt):
            if i not in used and (o := iou(det.box, box)) > best:
                best, best_i = o, i
        if best >= thr:
            used.add(best_i)
            tp += gt[best_i][1]
        else:
            fp += 1
    fn = sum(1 for i, (_, counted) in enumerate(gt) if counted and i not in used)
    return tp, fp, fn
