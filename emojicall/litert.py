"""The one LiteRT model runner, for the classifier, BlazeFace and MTCNN's three nets: load a .tflite file (one
clear line if it cannot be), resize the input when a batch or image size changes, run, hand the outputs back."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import UserError
from .quiet import native_stderr_silenced

REINSTALL = "reinstall EmojiCall (`pip install .`)"


def interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # no LiteRT wheel (Intel macOS): the same interpreter inside TensorFlow
        try:
            from tensorflow.lite.python.interpreter import Interpreter
        except ImportError:
            raise UserError("neither LiteRT (ai-edge-litert) nor TensorFlow is installed", REINSTALL) from None
    return Interpreter


class LiteModel:
    def __init__(self, path: str | Path, *, what: str = "model", fix: str = REINSTALL, num_threads: int = 1,
                 input_shape: tuple[int, ...] | None = None):
        """`what` names the file in errors ("BlazeFace model"); `input_shape` replaces the stored one (PNet's
        stored 1x1 input is too small for its convolutions)."""
        path = Path(path)
        if not path.is_file():
            raise UserError(f"{what} {path} is missing", fix)
        try:
            with native_stderr_silenced():  # LiteRT prints an INFO line to fd 2 when it creates XNNPACK
                self._it = interpreter_class()(model_path=str(path), num_threads=num_threads)
                if input_shape is not None:
                    self._it.resize_tensor_input(self._it.get_input_details()[0]["index"], input_shape)
                self._it.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise UserError(f"cannot load {what} {path} ({str(exc).splitlines()[0]})", fix) from None
        details = self._it.get_input_details()[0]
        self._in, self.input_shape = details["index"], tuple(int(v) for v in details["shape"])
        self.outputs = [(d["index"], tuple(int(v) for v in d["shape"])) for d in self._it.get_output_details()]

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        """Every output for input `x`, in the file's order (views into LiteRT's buffers: copy what you keep)."""
        if x.shape != self.input_shape:
            self._it.resize_tensor_input(self._in, x.shape)
            self._it.allocate_tensors()
            self.input_shape = x.shape
        self._it.set_tensor(self._in, x)
        self._it.invoke()
        return [self._it.get_tensor(index) for index, _ in self.outputs]

    def by_width(self, x: np.ndarray) -> dict[int, np.ndarray]:
        """The outputs keyed by their last dimension, for files whose output names differ but shapes do not."""
        return {out.shape[-1]: out for out in self(x)}
