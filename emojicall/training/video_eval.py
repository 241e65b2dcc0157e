"""`emojicall evaluate --video LABELS.csv`: how often the emoji a viewer sees matches the face, on labelled clips.

Each clip runs through the app's own chain (emojicall.pipeline.Pipeline: detector every 5th frame, optical-flow
tracker, calibrated crop, classifier with flip TTA, smoother), with detection on the calling thread so that two
runs give the same numbers. A frame counts when its largest face has an emotion; the score is the share of those
frames showing the clip's label. LABELS.csv: columns `file,emotion` (paths relative to the CSV's folder), and
optionally `start,end` (inclusive frame numbers: only those frames are scored, the chain still runs from frame 0
so tracker and smoother are warm as in a call), `split` (select rows with `split=`) and `actor` (one person).

With `calibrate`, each actor is calibrated (emojicall.calibration) on the first half of the scored frames of their
first neutral row, that row is scored on its second half only, and all their rows run with the offset; actors
without a neutral row run uncalibrated. Each clip's result says `"calibrated": true|false`.

With automatic calibration (emojicall.autocal; the app's setting unless `auto` says otherwise), each actor's
baseline carries across that actor's rows in the CSV's order, as if they were one longer call (the tracker still
starts afresh each row); rows without an actor start from nothing. Each clip's result says on how many of its
frames the learned baseline was in use (`"auto_frames"`).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..labels import LABELS, label_index
from ..tables import read_rows


@dataclass
class Clip:
    file: Path
    emotion: str
    start: int = 0
    end: int | None = None  # inclusive; None: to the last frame
    split: str = ""
    actor: str = ""

    @property
    def name(self) -> str:
        rng = "" if self.start == 0 and self.end is None else f"[{self.start}:{'' if self.end is None else self.end}]"
        return self.file.name + rng


def read_labels(csv_path: str | Path, split: str | None = None) -> tuple[list[Clip], list[str]]:
    """The clips of a labels CSV (rows of `split` only, if given) and notes on the rows skipped."""
    csv_path = Path(csv_path)
    clips, notes = [], []
    for n, r in read_rows(csv_path, "labels file", ("file", "emotion")):
        if split and r.get("split", "") != split:
            continue
        try:
            emotion = LABELS[label_index(r["emotion"])]
        except ValueError:
            notes.append(f"{r['file']}: emotion '{r['emotion']}' is not one of the 7 classes, skipped")
            continue
        path = (csv_path.parent / r["file"]).resolve()
        if not path.is_file():
            raise UserError(f"{csv_path}, line {n}: clip not found: {path}: fix the path (relative to the CSV)")
        try:
            start = int(r.get("start") or 0)
            end = int(r["end"]) if r.get("end") else None
        except ValueError:
            raise UserError(f"{csv_path}, line {n}: start/end must be frame numbers") from None
        if start < 0 or (end is not None and end < start):  # would score no frame: a silent 0
            raise UserError(f"{csv_path}, line {n}: frames {start} to {end} are no range",
                            "give 0 <= start <= end (inclusive frame numbers)")
        clips.append(Clip(path, emotion, start, end, (r.get("split") or "").strip(), (r.get("actor") or "").strip()))
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


def app_pipeline(detector: str | None = None, model=None, auto: bool | None = None, **parts):
    """The app's chain exactly as `run` builds it (build.pipeline, the app's Settings, detection in line so a
    clip always scores the same); `parts` (a timed classifier, say) are used as they are."""
    import logging

    from .. import build
    from ..detectors import DEFAULT
    from ..settings import Settings

    # A user's stored calibration never enters a score: --calibrate calibrates each actor itself.
    settings = Settings(detector=detector or DEFAULT, model=str(model or ""), calibration=False)
    if auto is not None:
        settings.auto_calibration = auto
    return build.pipeline(settings, detector_fallback=detector is None, warn=logging.getLogger(__name__).warning,
                          **parts)


def run_app_chain(clips: list[Clip], pipe, calibrate: bool = False) -> list[dict]:
    from dataclasses import replace

    classifier = pipe.classifier
    offsets, scored_from = calibrate_actors(clips, pipe) if calibrate else ({}, {})
    auto, autos = classifier.auto, {}
    out = []
    for i, clip in enumerate(clips):
        classifier.calibration = offsets.get(clip.actor)
        if auto is not None:  # one baseline per person, carried across their rows in order
            classifier.auto = autos.setdefault(clip.actor or i, type(auto)(auto.prior, auto.warmup))
            applied = classifier.auto.applied
        pipe.reset()  # each clip starts as a new call: no tracks, history or fades from the last one
        scored = replace(clip, start=scored_from.get(i, clip.start))  # a calibrating row: its second half
        fps, shown = read_clip(scored, lambda frame: pipe.process(frame)[1])
        out.append(clip_result(clip, fps, shown))
        if calibrate:
            out[-1]["calibrated"] = clip.actor in offsets
        if auto is not None:
            out[-1]["auto_frames"] = classifier.auto.applied - applied
    classifier.calibration, classifier.auto = None, auto
    return out


def calibrate_actors(clips: list[Clip], pipe) -> tuple[dict, dict]:
    """({actor: offset}, {clip index: first scored frame}): each actor with a neutral row is calibrated on the
    first half of that row's scored frames through the app's chain; that row is then scored on the rest."""
    from .. import calibration
    from ..errors import UserError

    classifier = pipe.classifier
    offsets, scored_from = {}, {}
    for i, clip in enumerate(clips):
        if not clip.actor or clip.emotion != "neutral" or clip.actor in offsets:
            continue
        half = sum(n >= clip.start for n, _ in clip_frames(clip)[1]) // 2
        pipe.reset()  # the recorder reads the classifier's output, before any smoothing
        rec = calibration.Recording(classifier.prior)
        try:
            for n, frame in clip_frames(clip)[1]:  # from frame 0: the chain is as warm as when the row is scored
                if n >= clip.start + half:
                    break
                classifier.recorder = rec if n >= clip.start else None
                faces = pipe.process(frame)[1]
                if n >= clip.start:
                    rec.frame_done(len(faces))
            offsets[clip.actor] = rec.offset()
            scored_from[i] = clip.start + half
        except UserError:
            continue  # not usable (too few frames with one steady face): this actor runs uncalibrated
        finally:
            classifier.recorder = None
    return offsets, scored_from


def evaluate_video(labels_csv: Path, *, detector: str | None = None, model=None, split: str | None = None,
                   json_out: Path | None = None, figures: Path | None = None, calibrate: bool = False,
                   auto: bool | None = None) -> dict:
    clips, notes = read_labels(labels_csv, split)
    pipe = app_pipeline(detector, model, auto)
    det, classifier = pipe.detector, pipe.classifier
    try:
        results = run_app_chain(clips, pipe, calibrate)
    finally:
        pipe.close()
    result = {"labels_csv": str(labels_csv), "split": split or "all", "detector": det.name,
              "model": str(classifier.model_dir), "tta": classifier.tta, "notes": notes,
              "auto_calibration": classifier.auto is not None}
    if calibrate:
        result["calibrate"] = True
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
                     f"{c['share']:>7.2f}  {c['most_read']}" + ("  (calibrated)" if c.get("calibrated") else "")
                     + (f"  (auto on {c['auto_frames']} frames)" if c.get("auto_frames") else ""))
    lines += [f"note: {n}" for n in r.get("notes", [])]
    return "\n".join(lines)
