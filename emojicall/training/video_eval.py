"""`emojicall evaluate --video LABELS.csv`: how often the emoji a viewer sees matches the face, on labelled clips.

Each clip runs through the app's own chain (emojicall.pipeline.Pipeline: detector every 5th frame, optical-flow
tracker, calibrated crop, classifier with flip TTA, smoother), with detection on the calling thread so that two
runs give the same numbers. A frame counts when its largest face has an emotion; the score is the share of those
frames showing the clip's label. LABELS.csv: columns `file,emotion` (paths relative to the CSV's folder), and
optionally `start,end` (inclusive frame numbers: only those frames are scored, the chain still runs from frame 0
so tracker and smoother are warm as in a call) and `split` (select rows with `split=`).
"""
from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..labels import LABELS, label_index


@dataclass
class Clip:
    file: Path
    emotion: str
    start: int = 0
    end: int | None = None  # inclusive; None: to the last frame
    split: str = ""

    @property
    def name(self) -> str:
        rng = "" if self.start == 0 and self.end is None else f"[{self.start}:{'' if self.end is None else self.end}]"
        return self.file.name + rng


def read_labels(csv_path: str | Path, split: str | None = None) -> tuple[list[Clip], list[str]]:
    """The clips of a labels CSV (rows of `split` only, if given) and notes on the rows skipped."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise UserError(f"labels file not found: {csv_path}: pass a CSV with columns file,emotion")
    with open(csv_path, newline="") as f:
        rows = [r for r in csv.DictReader(line for line in f if not line.lstrip().startswith("#"))]
    if not rows or not {"file", "emotion"} <= set(rows[0]):
        raise UserError(f"{csv_path}: needs a header with the columns file,emotion (more columns are allowed)")
    clips, notes = [], []
    for n, r in enumerate(rows, start=2):
        if split and r.get("split", "").strip() != split:
            continue
        try:
            emotion = LABELS[label_index(r["emotion"])]
        except ValueError:
            notes.append(f"{r['file']}: emotion '{r['emotion']}' is not one of the 7 classes, skipped")
            continue
        path = (csv_path.parent / r["file"].strip()).resolve()
        if not path.is_file():
            raise UserError(f"{csv_path}, row {n}: clip not found: {path}: fix the path (relative to the CSV)")
        try:
            start = int(r.get("start") or 0)
            end = int(r["end"]) if (r.get("end") or "").strip() else None
        except ValueError:
            raise UserError(f"{csv_path}, row {n}: start/end must be frame numbers") from None
        clips.append(Clip(path, emotion, start, end, (r.get("split") or "").strip()))
    if not clips:
        raise UserError(f"{csv_path}: no clip with one of the 7 emotions" + (f" in split '{split}'" if split else ""))
    return clips, notes


def clip_frames(clip: Clip):
    """(fps, iterator of (frame number, BGR frame)) from frame 0 up to the clip's end."""
    from ..sources import open_source

    source = open_source(clip.file)

    def frames():
        try:
            i = 0
            while clip.end is None or i <= clip.end:
                frame = source.read()
                if frame is None:
                    return
                yield i, frame
                i += 1
        finally:
            source.close()
    return source.fps, frames()


def largest_label(faces) -> str | None:
    faces = [f for f in faces if f.probs is not None]
    return max(faces, key=lambda f: f.area).label if faces else None


def read_clip(clip: Clip, process) -> tuple[float, list[str | None]]:
    """Run `process(frame) -> faces` over the clip; the largest face's label per scored frame (None: no face)."""
    fps, frames = clip_frames(clip)
    shown = []
    for i, frame in frames:
        label = largest_label(process(frame))
        if i >= clip.start:
            shown.append(label)
    return fps, shown


def clip_result(clip: Clip, fps: float, shown: list[str | None]) -> dict:
    read = [s for s in shown if s is not None]
    counts = Counter(read)
    switches = sum(a != b for a, b in zip(read, read[1:]))
    seconds = len(shown) / fps if fps else 0.0
    return {"file": clip.name, "emotion": clip.emotion, "split": clip.split, "frames": len(shown),
            "frames_with_face": len(read),
            # A clip where no face is found shows no right emoji on any frame: its share is 0, not left out.
            "share": round(counts[clip.emotion] / len(read), 4) if read else 0.0,
            "most_read": counts.most_common(1)[0][0] if read else None,
            "switches_per_s": round(switches / seconds, 3) if seconds else 0.0,
            "shown": [LABELS.index(s) if s else -1 for s in shown]}


def summarize(clips: list[dict]) -> dict:
    """Overall scores from clip_result()s: the mean clip share, clip accuracy, switches, frame confusion."""
    confusion = np.zeros((len(LABELS), len(LABELS)), np.int64)
    for c in clips:
        for s in c["shown"]:
            if s >= 0:
                confusion[LABELS.index(c["emotion"]), s] += 1
    n = max(1, len(clips))
    return {"frame_share": round(sum(c["share"] for c in clips) / n, 4),
            "clip_accuracy": round(sum(c["most_read"] == c["emotion"] for c in clips) / n, 4),
            "clips_right": sum(c["most_read"] == c["emotion"] for c in clips), "n_clips": len(clips),
            "switches_per_s": round(sum(c["switches_per_s"] for c in clips) / n, 3),
            "accuracy": round(float(np.trace(confusion) / max(1, confusion.sum())), 4),
            "confusion": confusion.tolist(), "labels": list(LABELS)}


def app_chain(detector: str | None, model, tta: bool = True):
    """The app's parts, built as the app builds them (build.py), for a Pipeline per clip with the app's defaults
    (detect every 5th frame, smoothing), detection synchronous."""
    import logging

    from .. import build
    from ..compositor import Compositor
    from ..detectors import DEFAULT
    from ..settings import Settings

    settings = Settings(detector=detector or DEFAULT, model=str(model or ""), tta=tta)
    classifier = build.load_classifier(settings)
    det, _ = build.load_detector(settings.detector, fallback=detector is None,
                                 warn=logging.getLogger(__name__).warning)
    return det, classifier, Compositor(build.load_pack(settings.pack))


def run_app_chain(clips: list[Clip], detector, classifier, compositor) -> list[dict]:
    from ..pipeline import Pipeline

    out, pipe = [], Pipeline(detector, classifier, compositor)
    for clip in clips:
        pipe.reset()  # fresh tracks, scores and frame count for each clip
        fps, shown = read_clip(clip, lambda frame: pipe.process(frame)[1])
        out.append(clip_result(clip, fps, shown))
    return out


def evaluate_video(labels_csv: Path, *, detector: str | None = None, model=None, split: str | None = None,
                   json_out: Path | None = None, figures: Path | None = None) -> dict:
    clips, notes = read_labels(labels_csv, split)
    det, classifier, compositor = app_chain(detector, model)
    try:
        results = run_app_chain(clips, det, classifier, compositor)
    finally:
        det.close()
    result = {"labels_csv": str(labels_csv), "split": split or "all", "detector": det.name,
              "model": str(classifier.model_dir), "tta": classifier.tta, "notes": notes}
    result.update(summarize(results))
    result["clips"] = [{k: v for k, v in c.items() if k != "shown"} for c in results]
    print(report(result))
    from .evaluate import write_json

    write_json(result, json_out)
    if figures:
        from .figures import confusion_png

        figures.mkdir(parents=True, exist_ok=True)
        confusion_png({**result, "split": f"{Path(labels_csv).parent.name} frames ({result['split']})"},
                      figures / f"{classifier.model_dir.name}_{det.name}_video_confusion.png")
    return result


def report(r: dict) -> str:
    lines = [f"{r['model']} + {r['detector']} on {r['labels_csv']} ({r['split']}, {r['n_clips']} clips): "
             f"frame_share {r['frame_share']:.3f}, clip_accuracy {r['clip_accuracy']:.3f} "
             f"({r['clips_right']}/{r['n_clips']}), switches/s {r['switches_per_s']:.2f}",
             f"{'clip':<44}{'emotion':>9}{'frames':>7}{'face':>6}{'share':>7}  most read"]
    for c in r["clips"]:
        lines.append(f"{c['file'][:44]:<44}{c['emotion']:>9}{c['frames']:>7}{c['frames_with_face']:>6}"
                     f"{c['share']:>7.2f}  {c['most_read']}")
    lines += [f"note: {n}" for n in r.get("notes", [])]
    return "\n".join(lines)
