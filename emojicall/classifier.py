"""Emotion classifier: loads a model folder from models/ and scores all faces of a frame in one call.

The default runtime is LiteRT (`ai-edge-litert`): no TensorFlow import, ~0.5 ms a face. The Keras backend
loads model.keras with safe_mode (no code from the file runs) for evaluation and cross-checks.
"""
from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import numpy as np

from . import model_files as mf
from .crop import crop_batch, load_framings
from .errors import UserError
from .labels import LABELS
from .tfquiet import require_train_extra

BACKENDS = ("tflite", "keras")


class TFLiteRunner:
    def __init__(self, path: Path, num_threads: int = 1):
        from .litert import LiteModel

        self._model = LiteModel(path, fix="re-export or re-download it", num_threads=num_threads)
        self.output_shape = self._model.outputs[0][1]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self._model.input_shape

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self._model(batch)[0].copy()


class KerasRunner:
    def __init__(self, path: Path):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TF logs to stderr are noise for users
        from .tfquiet import import_tensorflow

        import_tensorflow("the keras backend")
        import keras

        try:
            with contextlib.redirect_stdout(io.StringIO()):
                self._model = keras.models.load_model(path, safe_mode=True, compile=False)
        except Exception as exc:  # Keras raises many types for bad files; all mean "this file is unusable"
            raise UserError(f"cannot load model {path} ({_keras_load_error(exc)}): "
                            "use a model saved by `emojicall train`") from None
        self.input_shape = tuple(self._model.input_shape)
        self.output_shape = tuple(self._model.output_shape)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        # A direct call, not predict(): predict builds a dataset per call (~50 ms even for one face).
        return np.asarray(self._model(batch, training=False))


def _keras_load_error(exc: Exception) -> str:
    text = str(exc)
    if "arbitrary code execution" in text or "safe_mode" in text:
        return "it carries Python code (a Lambda layer), and code from a model file is never run"
    if "Could not locate" in text:
        return "it needs custom layers or functions that EmojiCall does not have"
    return text.splitlines()[0][:200] if text else type(exc).__name__


def prior_shift(meta: dict) -> np.ndarray:
    """meta.json's "prior_shift" ({class: log shift}) as a vector in LABELS order; zeros when absent."""
    given = meta.get("prior_shift") or {}
    return np.array([float(given.get(name, 0.0)) for name in LABELS], np.float32)


def shift_probs(probs: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """softmax(log(probs) + shift) row by row; probs unchanged when the shift is all zeros."""
    if not np.any(shift):
        return probs
    logits = np.log(np.clip(probs, 1e-7, 1.0)) + shift
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


class EmotionClassifier:
    def __init__(self, model: str | Path | None = None, backend: str = "tflite", tta: bool = False,
                 num_threads: int = 1):
        if backend not in BACKENDS:
            raise UserError(f"unknown classifier backend '{backend}': use one of {', '.join(BACKENDS)}")
        self.model_dir = mf.resolve_model_dir(model)
        self.meta = mf.read_meta(self.model_dir)
        self.size = int(self.meta["input_size"])
        # A model whose members already split the crop and its mirror between them (meta "sees_mirror") gets
        # nothing from flip TTA but twice the work.
        self.tta = tta and not self.meta.get("sees_mirror", False)
        if backend == "keras":  # the missing package first: the extra's install is what fixes it all
            require_train_extra("the keras backend")
        file = self.model_dir / (mf.TFLITE if backend == "tflite" else mf.KERAS)
        if not file.is_file():
            raise UserError(f"model folder {self.model_dir} has no {file.name}",
                            "re-export it with `emojicall train`" if backend == "tflite" else
                            "the installed package ships model.tflite only: run the keras backend from a source "
                            "checkout, or re-export the model with `emojicall train`")
        self._run = TFLiteRunner(file, num_threads) if backend == "tflite" else KerasRunner(file)
        if tuple(self._run.input_shape[1:]) != (self.size, self.size, 1):
            raise UserError(f"{file}: input shape {self._run.input_shape} does not match meta.json's "
                            f"input_size {self.size}: re-export the model")
        if self._run.output_shape[-1:] != (len(LABELS),):  # else every frame would fail in classify()
            raise UserError(f"{file}: output shape {self._run.output_shape} is not {len(LABELS)} classes: "
                            "use a model trained by `emojicall train`")
        # Outputs follow the model's own label order; reorder them to ours once, here.
        self._order = np.array([self.meta["labels"].index(name) for name in LABELS])
        # Per-detector crop calibration (crop.json beside the model); use_detector() picks one.
        self.framings = load_framings(self.model_dir)
        self.framing = None
        # A log-probability shift added to every output (then renormalised), in LABELS order: the model's prior
        # for a call (meta "prior_shift": FER-2013's class balance is not a call's), or, once set, the person's
        # calibration offset (emojicall.calibration), which replaces it: it knows this person's resting face.
        self.prior = prior_shift(self.meta)
        self.calibration: np.ndarray | None = None
        # emojicall.autocal.AutoCalibration when the automatic mode is on: a per-face offset learned from the call's
        # near-neutral frames, used where there is no manual calibration (which wins).
        self.auto = None
        self.recorder = None  # emojicall.calibration.Recording while calibrating: sees faces and unshifted output

    def use_detector(self, name: str | None) -> None:
        """Frame crops the way this model's crop.json says for boxes from detector `name` (the uncalibrated
        rule where it has no entry). Pipeline calls it whenever its detector changes."""
        self.framing = self.framings.get(name) if name else None

    def predict_crops(self, crops: np.ndarray) -> np.ndarray:
        """(N, S, S, 1) float32 gray crops in 0..255 -> (N, 7) probabilities in LABELS order: the model's own
        output (classify() shifts it for the call)."""
        if len(crops) == 0:
            return np.zeros((0, len(LABELS)), np.float32)
        if self.tta:  # faces and their mirrors in one call: one interpreter invocation per frame either way
            n = len(crops)
            both = self._run(np.ascontiguousarray(np.concatenate([crops, crops[:, :, ::-1]]), dtype=np.float32))
            probs = (both[:n] + both[n:]) / 2
        else:
            probs = self._run(np.ascontiguousarray(crops, dtype=np.float32))
        return probs[:, self._order]

    def adjust(self, probs: np.ndarray) -> np.ndarray:
        """The model's probabilities with the calibration offset applied, or else the prior shift."""
        return shift_probs(probs, self.prior if self.calibration is None else self.calibration)

    def classify(self, frame: np.ndarray, faces) -> np.ndarray:
        """Score every face of a frame in one batched call; sets each Face.probs (shifted by adjust()) and
        returns them."""
        crops = crop_batch(frame, [f.box for f in faces], self.size, framing=self.framing,
                           landmarks=[f.landmarks for f in faces])
        probs = self.predict_crops(crops)
        if self.recorder is not None:
            self.recorder(faces, probs)
        if self.auto is not None and self.calibration is None:
            probs = shift_probs(probs, self.auto.offsets(faces, probs))
        else:
            probs = self.adjust(probs)
        for face, p in zip(faces, probs):
            face.probs = p
        return probs
