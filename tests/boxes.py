"""Ground-truth face boxes from ../shared/media/face_boxes, scored with the detectors' own matching."""
from pathlib import Path

from emojicall.training.boxes import load_boxes, match as match_detections


def load_gt(root: Path, csv_name: str = "annotations.csv", min_size: int = 20) -> dict[str, list]:
    """absolute image path -> list of (box, counted) where counted is False for small or ignored faces."""
    return {str(root / image): faces for image, faces in load_boxes(root / csv_name, min_size).items()}


def match(detections, gt, thr: float = 0.5) -> tuple[int, int, int]:
    """(TP, FP, FN) at IoU >= thr."""
    outcome = match_detections(detections, gt, thr)
    hit = {i for _, o, i in outcome if o != "fp"}
    tp, fp = sum(o == "tp" for _, o, _ in outcome), sum(o == "fp" for _, o, _ in outcome)
    return tp, fp, sum(1 for i, (_, counted) in enumerate(gt) if counted and i not in hit)
