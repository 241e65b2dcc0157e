"""Import TensorFlow without its C++ start-up chatter (oneDNN, CUDA probing) on the user's terminal, and
without the files Keras leaves behind on import.

TF 2.21 logs those lines from C++ whatever TF_CPP_MIN_LOG_LEVEL says, so fd 2 is silenced for the import.
Keras writes ~/.keras/keras.json on import and imports matplotlib for its plotting helpers (which writes a font
cache under ~/.cache); the app needs neither, and writes nothing the user did not ask for (docs/reliability.md)."""
from __future__ import annotations

import contextlib
import os
import sys

from .quiet import native_stderr_silenced


def import_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    with native_stderr_silenced(), _no_side_files():
        import tensorflow as tf
        import keras  # noqa: F401  (its import also initialises TF's device list)

        tf.config.list_physical_devices()  # the CUDA probe logs here; do it while stderr is quiet
    return tf


@contextlib.contextmanager
def _no_side_files():
    own_home = "KERAS_HOME" in os.environ or os.path.exists(os.path.expanduser(os.path.join("~", ".keras")))
    if not own_home:  # a folder that cannot be made: Keras skips writing its config (a user's own is still read)
        os.environ["KERAS_HOME"] = os.path.join(os.devnull, "keras")
    block_mpl = "matplotlib" not in sys.modules
    if block_mpl:  # Keras catches the ImportError and leaves its plotting helpers off
        sys.modules["matplotlib"] = None
    try:
        yield
    finally:
        if block_mpl and sys.modules.get("matplotlib", 0) is None:
            del sys.modules["matplotlib"]
        if not own_home:
            os.environ.pop("KERAS_HOME", None)
