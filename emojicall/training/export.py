"""Keras -> LiteRT (.tflite) conversion for the runtime."""
from __future__ import annotations

import contextlib
import io
from pathlib import Path


def export_tflite(model, path: Path) -> None:
    # Keras's own LiteRT export freezes the weights into the flatbuffer (a hand-made concrete function
    # left them as resource variables: a 9 KB file with no weights).
    with contextlib.redirect_stdout(io.StringIO()):
        model.export(str(path), format="litert")
