"""Import TensorFlow without its C++ start-up chatter (oneDNN, CUDA probing) on the user's terminal.

TF 2.21 logs those lines from C++ whatever TF_CPP_MIN_LOG_LEVEL says, so fd 2 is silenced for the import."""
from __future__ import annotations

import os
import sys

from .quiet import native_stderr_silenced


def import_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    with native_stderr_silenced():
        import tensorflow as tf
        import keras  # noqa: F401  (its import also initialises TF's device list)

        tf.config.list_physical_devices()  # the CUDA probe logs here; do it while stderr is quiet
    return tf
