"""Per-person neutral calibration: resting faces differ, and one that looks a little sad or stern to the model
would read sad or angry all call long.

`emojicall calibrate` (or the tray's "Calibrate: hold a neutral face") records ~3 s of the main face through the
app's own chain, checks the recording is usable (one face, steady, enough frames; else one line saying what to
do), and stores a per-class log-probability offset in the user's config folder: the shift that turns this
person's mean neutral output into one where neutral leads every other class by NEUTRAL_MARGIN (offset_from). The
classifier adds it to every face's log-probabilities before smoothing, in place of the model's call prior, which
it includes (EmotionClassifier.calibration); `run --no-calibration` leaves it off. One file per user account (the config
folder is per user), for the model it was recorded with.
"""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import numpy as np

from .errors import UserError
from .labels import LABELS

log = logging.getLogger(__name__)
VERSION = 1
SECONDS = 3.0
MIN_FRAMES = 20      # frames with the one face; 3 s at 30 fps gives 90, a slow camera at 10 fps still 30
ONE_FACE_SHARE = 0.8  # of the frames read
# Steady: the sd of the face centre over the recording, in face widths (still faces in ../shared's clips: 0.02-0.08;
# a head turning left, right and up: 0.28), and the total-variation distance between the mean output of the
# first and second half (one held expression: 0.02-0.24; neutral, then a smile: 0.47).
MAX_MOVE = 0.25
MAX_CHANGE = 0.35
# Resting probabilities are clipped here before the log.
FLOOR = 1e-4
# Log lead of neutral over the classes a calm face comes close to, on the person's own neutral frames. With the
# first offset (which also raised the classes a calm face never shows) the real-video tune split gave, for 0.25,
# 0.5, 0.75, 1.0: frame_share 0.526, 0.696, 0.678, 0.626 (bench/call_prior.py --calibration). Pushing classes
# down only, 0.75 left CREMA-D actor 1001's calibrated neutral clip reading fear on 9 of its 25 scored frames
# (fernet, no call prior) once detection ran around the tracks; 1.0 reads neutral on all 25.
NEUTRAL_MARGIN = 1.0
NEUTRAL = LABELS.index("neutral")


def default_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("emojicall", appauthor=False)) / "calibration.json"


def offset_from(probs: np.ndarray, prior: np.ndarray | None = None) -> np.ndarray:
    """The log shift, centred, that the classifier uses in place of its `prior` for this person: the prior, plus
    a push down of exactly the classes that come within NEUTRAL_MARGIN of neutral on the mean of this person's
    neutral frames (probs: the model's own output), so that neutral leads them by that margin. A class the calm
    face already reads far below neutral is left as the model has it: raising those (the first version did)
    made a calm face read surprise or disgust on the frames it differed most from its mean."""
    from .classifier import shift_probs

    prior = np.zeros(len(LABELS), np.float32) if prior is None else np.asarray(prior, np.float32)
    off = prior - push_from_mean(shift_probs(probs, prior).mean(axis=0))
    return (off - off.mean()).astype(np.float32)


def push_from_mean(mean: np.ndarray) -> np.ndarray:
    """How far each class is pushed down (log units, >= 0; neutral never) so that neutral leads the classes within
    NEUTRAL_MARGIN of it on `mean`, the prior-shifted output of a calm face (what emojicall.autocal keeps)."""
    log_mean = np.log(np.clip(mean, FLOOR, 1.0))
    push = np.maximum(0.0, log_mean - log_mean[NEUTRAL] + NEUTRAL_MARGIN)
    push[NEUTRAL] = 0.0
    return push


class Recording:
    """Collects, per frame, the faces the chain found and the model's own output for the largest one. Set as the
    classifier's `recorder`; the classifier calls it with each frame's faces and their unshifted output. `prior`:
    the classifier's call prior, which the offset builds on."""

    def __init__(self, prior: np.ndarray | None = None):
        self.prior = prior
        self.frames = 0
        self.counts: list[int] = []
        self.boxes: list[tuple] = []
        self.probs: list[np.ndarray] = []

    def __call__(self, faces, probs: np.ndarray) -> None:
        self.counts.append(len(faces))
        if len(faces) == 1:
            self.boxes.append(faces[0].box)
            self.probs.append(probs[0])

    def frame_done(self, n_faces: int) -> None:
        """Frames without a face never reach the classifier: count them here."""
        self.frames += 1
        if n_faces == 0:
            self.counts.append(0)

    def offset(self) -> np.ndarray:
        """The calibration offset, or a UserError saying what to do when the recording is not usable."""
        n = max(self.frames, len(self.counts), 1)
        one = len(self.probs)
        many = sum(c > 1 for c in self.counts)
        if many > n * (1 - ONE_FACE_SHARE):
            raise UserError(f"calibration saw more than one face on {many} of {n} frames",
                            "be the only face in view and try again")
        if one < n * ONE_FACE_SHARE:
            raise UserError(f"calibration found your face on only {one} of {n} frames",
                            "face the camera in good light, closer, and try again")
        if one < MIN_FRAMES:
            raise UserError(f"calibration got only {one} frames of your face ({MIN_FRAMES} needed)",
                            "record for longer (--seconds)")
        boxes = np.array(self.boxes, np.float64)
        move = float(np.sqrt((boxes[:, :2] + boxes[:, 2:] / 2).var(axis=0).sum()) / np.median(boxes[:, 2]))
        if move > MAX_MOVE:
            raise UserError(f"your face moved too much while calibrating ({move:.2f} face widths)",
                            "hold still, look at the camera with a calm face, and try again")
        probs = np.array(self.probs)
        change = 0.5 * float(np.abs(probs[:one // 2].mean(axis=0) - probs[one // 2:].mean(axis=0)).sum())
        if change > MAX_CHANGE:
            raise UserError(f"your expression changed while calibrating ({change:.2f})",
                            "hold one calm, neutral face for the whole recording and try again")
        return offset_from(probs, self.prior)


def save(offset: np.ndarray, model: str, path: Path | None = None) -> Path:
    path = path or default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"version": VERSION, "model": model, "recorded": time.strftime("%Y-%m-%d %H:%M"),
                               "offset": {k: round(float(v), 4) for k, v in zip(LABELS, offset)}}, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def load(model: str, path: Path | None = None) -> np.ndarray | None:
    """The stored offset for `model`; None when there is none. A file that is unreadable, corrupt or recorded
    with another model is ignored with one warning (the app runs uncalibrated, never stops)."""
    explicit, path = path is not None, path or default_path()
    if not path.exists():
        if explicit:
            log.warning("calibration file %s not found; running uncalibrated", path)
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        offset = np.array([float(data["offset"][k]) for k in LABELS], np.float32)
        if data.get("version") != VERSION or not np.all(np.isfinite(offset)):
            raise ValueError("not a calibration of this version")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        log.warning("calibration file %s is unusable (%s); running uncalibrated: run `emojicall calibrate` "
                    "again", path, exc)
        return None
    if data.get("model") != model:
        log.warning("calibration file %s was recorded with model %s, not %s; running uncalibrated: run "
                    "`emojicall calibrate` again", path, data.get("model"), model)
        return None
    return offset


def reset(path: Path | None = None) -> None:
    (path or default_path()).unlink(missing_ok=True)


def apply(classifier, path: Path | None = None) -> None:
    """Give the classifier the stored calibration for its model (or none)."""
    classifier.calibration = load(classifier.model_dir.name, path)
    if classifier.calibration is not None:
        log.info("using your calibration from %s (--no-calibration switches it off)", path or default_path())


def record(pipeline, frames, seconds: float = SECONDS, fps: float | None = None) -> np.ndarray:
    """Run `frames` (an iterator of BGR frames) through `pipeline` for `seconds` (of the source's time when fps is
    given, else of wall time) and return the calibration offset for its classifier's model."""
    clf = pipeline.classifier
    rec = Recording(clf.prior)
    clf.recorder, start = rec, time.monotonic()
    try:
        for frame in frames:
            if frame is None:
                break
            rec.frame_done(len(pipeline.process(frame)[1]))
            if (rec.frames / fps if fps else time.monotonic() - start) >= seconds:
                break
    finally:
        clf.recorder = None
    return rec.offset()


def record_live(classifier, report, seconds: float = SECONDS, path: Path | None = None):
    """The tray's "Calibrate": record the running stream's faces for `seconds` on a timer thread, then store and use
    the offset; report(what, fix) gets the one line when the recording is not usable, report(None) on success."""
    import threading

    rec = Recording(classifier.prior)
    classifier.recorder = rec

    def finish():
        time.sleep(seconds)
        classifier.recorder = None
        try:
            offset = rec.offset()
        except UserError as exc:
            report(exc.what, exc.fix)
            return
        save(offset, classifier.model_dir.name, path)
        classifier.calibration = offset
        report(None)

    thread = threading.Thread(target=finish, name="calibrate", daemon=True)
    thread.start()
    return thread
