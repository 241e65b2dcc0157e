"""Automatic calibration: a slow, robust per-face baseline learned only from frames that look near-neutral.

A manual calibration (emojicall.calibration) needs the user to hold a calm face for 3 s. This learns the same
thing while the call runs: per track, the mean of the model's output after the call prior over the frames that
look near-neutral (neutral the top class or within GATE of it, in log probability). Once WARMUP such frames are
in (10 s at 30 fps), the classifier uses the prior less calibration.push_from_mean(baseline) in place of the prior,
the rule a manual calibration uses, so both agree on what a calm face is; a manual calibration, when present, wins.

Robust to a few seconds of one expression: frames that do not look near-neutral are never learned from; the
estimate is a running mean that becomes an EMA with a time constant of TAU frames (60 s at 30 fps), and each
frame's step is clipped to STEP per class, so k frames of one expression that do pass the gate move a class's
mean probability by at most k x STEP / min(n, TAU) after n: 3 s (90 frames) at most 0.075 just after the
warm-up, 0.0125 after a minute. Measured (tests/test_autocal.py, CREMA-D actor 1001 through fernet_duo, 366 calm
frames learned): 4 s of acted sad moved it 0.063, 4 s of happy 0.015, and the offset not at all. The push it
applies is capped at MAX_PUSH. Cost: a few numpy operations on 7 numbers a face and frame.

Faces: one baseline per tracker id. A track that ends (the face left, or the tracker lost it) leaves its baseline
behind, and the next new track takes the one with the most evidence: in a call that is nearly always the same
person coming back, and the main face keeps its baseline for the whole call.
"""
from __future__ import annotations

import numpy as np

from .calibration import FLOOR, NEUTRAL, push_from_mean
from .classifier import shift_probs
from .labels import LABELS

WARMUP = 300        # near-neutral frames before the baseline is used (10 s at 30 fps)
TAU = 1800.0        # frames: the EMA's time constant once warm (60 s at 30 fps)
STEP = 0.25         # max change of one class's probability a frame may bring, before the 1/min(n, TAU) weight
GATE = 1.0          # near-neutral: after the prior, log p(neutral) >= log p(top) - GATE
MAX_PUSH = 2.0      # the most the baseline may push one class below the prior (log units)
KEEP = 8            # baselines of ended tracks kept for new ones to take over


class Baseline:
    """The running mean of one face's prior-shifted output on its near-neutral frames."""
    __slots__ = ("mean", "n")

    def __init__(self):
        self.mean = np.zeros(len(LABELS), np.float64)
        self.n = 0

    def learn(self, p: np.ndarray) -> None:
        self.n += 1
        step = p - self.mean if self.n == 1 else np.clip(p - self.mean, -STEP, STEP)
        self.mean += step / min(self.n, TAU)


class AutoCalibration:
    """Set as EmotionClassifier.auto; offsets() gives each face's log shift (the prior until warm)."""

    def __init__(self, prior: np.ndarray, warmup: int = WARMUP):
        self.prior = np.asarray(prior, np.float32)
        self.warmup = warmup
        self.tracks: dict[int, Baseline] = {}
        self.ended: list[Baseline] = []
        self.applied = 0  # face-frames that got a learned offset (what evaluate --video reports)

    def reset(self) -> None:
        """Forget everyone (a new call, another person)."""
        self.tracks.clear()
        self.ended.clear()

    def baseline(self, track_id) -> Baseline:
        b = self.tracks.get(track_id)
        if b is None:
            b = max(self.ended, key=lambda e: e.n) if self.ended else Baseline()
            if self.ended:
                self.ended.remove(b)
            self.tracks[track_id] = b
        return b

    def offsets(self, faces, probs: np.ndarray) -> np.ndarray:
        """(N, 7) log shifts for the faces' model output `probs` (N, 7); learns from the near-neutral ones."""
        present = {f.track_id for f in faces}
        for tid in [t for t in self.tracks if t not in present]:
            self.ended.append(self.tracks.pop(tid))
        del self.ended[:-KEEP]
        out = np.empty((len(faces), len(self.prior)), np.float32)
        shifted = shift_probs(probs, self.prior)
        for i, face in enumerate(faces):
            b = self.baseline(face.track_id)
            if np.log(max(shifted[i, NEUTRAL], FLOOR) / shifted[i].max()) >= -GATE:
                b.learn(shifted[i])
            out[i] = self.offset(b)
        return out

    def offset(self, b: Baseline) -> np.ndarray:
        if b.n < self.warmup:
            return self.prior
        self.applied += 1
        return (self.prior - np.minimum(push_from_mean(b.mean), MAX_PUSH)).astype(np.float32)
