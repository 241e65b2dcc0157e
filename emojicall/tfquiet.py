"""Import TensorFlow without its C++ start-up chatter (oneDNN, CUDA probing) on the user's terminal, and
without the files Keras leaves behind on import; or say in one line that it is not installed: TensorFlow, Keras
and mtcnn come with the `train` extra (training, Keras evaluation, MTCNN on TensorFlow), not with the app.

TF 2.21 logs those lines from C++ whatever TF_CPP_MIN_LOG_LEVEL says, so fd 2 is silenced for the import.
Keras writes ~/.keras/keras.json on import and imports matplotlib for its plotting helpers (which writes a font
cache under ~/.cache); the app needs neither, and writes nothing the user did not ask for (docs/reliability.md)."""
from __future__ import annotations

import contextlib
import importlib.util
import os
import sys

from .errors import UserError
from .quiet import native_stderr_silenced

TRAIN_EXTRA = "pip install 'emojicall[train]'"


def require_train_extra(what: str, modules: tuple[str, ...] = ("tensorflow", "keras")) -> None:
    """One line naming the extra when `what` needs a package of it that is not installed."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise UserError(f"{what} needs {' and '.join(missing)}, which the app's install leaves out", TRAIN_EXTRA)


def import_tensorflow(what: str = "this command"):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if sys.modules.get("tensorflow") is not None:
        return sys.modules["tensorflow"]
    require_train_extra(what)
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
