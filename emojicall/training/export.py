"""Keras -> LiteRT (.tflite) conversion for the runtime."""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

QUANTIZE = ("none", "dynamic-int8", "float16")


def export_tflite(model, path: Path, quantize: str = "none") -> None:
    # Keras's own LiteRT export freezes the weights into the flatbuffer (a hand-made concrete function
    # left them as resource variables: a 9 KB file with no weights).
    options = {}
    if quantize != "none":
        import tensorflow as tf

        # dynamic-int8: int8 weights, activations quantized on the fly (XNNPACK's int8 kernels, ~3x faster on
        # CPUs with VNNI); float16: half-size weights, computed in float32. Input stays float 0..255 either way.
        options["optimizations"] = [tf.lite.Optimize.DEFAULT]
        if quantize == "float16":
            options["target_spec"] = {"supported_types": [tf.float16]}
    with contextlib.redirect_stdout(io.StringIO()):
        model.export(str(path), format="litert", **options)


# Keys of meta.json that describe one training run: a folder made from other models (soup, ensemble) leaves
# them to its source's own folder.
RUN_KEYS = ("stages", "epochs_run", "best_epoch", "val_accuracy", "wall_time_s", "train_images_per_s")


def save_derived(model, out: Path, source: Path, quantize: str, drop: tuple = (), **fields) -> dict:
    """A model folder for `model`, made from the model in `source`: model.keras, model.tflite, source's meta.json
    with `fields` set and its training-run keys (plus `drop`) removed, and source's crop.json."""
    import shutil

    from .. import model_files as mf

    out.mkdir(parents=True, exist_ok=True)
    model.save(out / mf.KERAS)
    export_tflite(model, out / mf.TFLITE, quantize)
    meta = mf.read_meta(source)
    meta.update(name=out.name, quantization={"none": "float32"}.get(quantize, quantize), **fields)
    for key in RUN_KEYS + tuple(drop):
        meta.pop(key, None)
    mf.write_meta(out, meta)
    if (source / "crop.json").is_file():
        shutil.copy(source / "crop.json", out / "crop.json")
    return meta
