"""What a model directory holds, shared by the trainer (writes it) and the runtime (reads it).

models/<name>/
  meta.json        labels (the order the outputs mean), input size, architecture, how it was made
  model.tflite     the runtime model (LiteRT; no TensorFlow import needed to run it)
  model.keras      the same weights for Keras (evaluation, conversion); loaded with safe_mode
  checkpoint.keras + state.json   resumable training state (model + optimizer), when kept
  train_log.csv    one row per epoch
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import UserError
from .labels import LABELS
from .paths import models_root

META = "meta.json"
TFLITE = "model.tflite"
KERAS = "model.keras"
CHECKPOINT = "checkpoint.keras"
STATE = "state.json"
LOG = "train_log.csv"
DEFAULT_MODEL = "fernet_duo"
# The app averages each face with its mirror: +1.6 points for fernet on PublicTest, and with its int8 file a face
# and its mirror cost ~0.5 ms on one thread, inside issue 6's 1 ms per face (bench/classifier.md). The default,
# fernet_duo, holds the mirror view itself (meta "sees_mirror"), so for it this costs nothing more.
APP_TTA = True


def resolve_model_dir(model: str | Path | None) -> Path:
    """A model given as a directory, a file inside one, or a bare name under models/."""
    if model is None:
        model = os.environ.get("EMOJICALL_MODEL") or DEFAULT_MODEL
    path = Path(model)
    if path.is_file():
        path = path.parent
    if not path.is_dir() and not path.is_absolute() and len(path.parts) == 1:
        path = models_root() / path
    if not path.is_dir():
        raise UserError(f"model not found: {model}: pass a model folder such as models/cnn")
    return path


def read_meta(model_dir: Path) -> dict:
    path = model_dir / META
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"model folder {model_dir} has no {META}: re-export the model with `emojicall train`") from None
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read {path} ({exc}): re-export the model") from None
    labels = meta.get("labels")
    if not isinstance(labels, list) or sorted(labels) != sorted(LABELS):
        raise UserError(f"{path}: 'labels' must list the 7 classes {', '.join(LABELS)}")
    if not isinstance(meta.get("input_size"), int) or not 16 <= meta["input_size"] <= 256:
        raise UserError(f"{path}: 'input_size' must be an integer pixel size")
    return meta


def write_meta(model_dir: Path, meta: dict) -> None:
    (model_dir / META).write_text(json.dumps(meta, indent=2) + "\n")
