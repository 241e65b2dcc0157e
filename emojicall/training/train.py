"""`emojicall train`: fit one architecture on FER-2013 with a fixed seed, checkpointing every epoch.

Resumable: the checkpoint holds model and optimizer (the learning-rate schedule is a function of the optimizer's
step count), state.json holds the epoch and the best validation score, so `--resume` continues where a killed
run stopped, on any machine.
"""
from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from .. import model_files as mf
from ..errors import UserError
from ..labels import LABELS
from .data import load_fer, stratified_split


def train(arch: str, data: Path, out: Path, *, epochs: int, batch_size: int, lr: float, seed: int,
          val_fraction: float = 0.1, patience: int = 10, augment: bool | None = None, label_smoothing: float = 0.0,
          limit: int | None = None, resume: bool = False, keep_checkpoint: bool = True) -> dict:
    from ..tfquiet import import_tensorflow

    tf = import_tensorflow()
    import keras

    from .architectures import ARCHS
    from .export import export_tflite

    if arch not in ARCHS:
        raise UserError(f"unknown architecture '{arch}': use one of {', '.join(ARCHS)}")
    augment = (arch != "mlp") if augment is None else augment
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)

    images, labels = load_fer(data, "train")
    if limit:
        images, labels = images[:limit], labels[:limit]
    tr, va = stratified_split(labels, val_fraction, seed)
    x_tr, y_tr = images[tr][..., None].astype("float32"), labels[tr]
    x_va, y_va = images[va][..., None].astype("float32"), labels[va]
    n_classes = len(LABELS)

    steps_per_epoch = int(np.ceil(len(x_tr) / batch_size))
    state_path = out / mf.STATE
    if resume and (out / mf.CHECKPOINT).exists():
        model = keras.models.load_model(out / mf.CHECKPOINT, safe_mode=True)
        state = json.loads(state_path.read_text())
        print(f"resuming {out} at epoch {state['epoch']} (best val_accuracy {state['best_val']:.4f})")
    else:
        model = ARCHS[arch]()
        schedule = keras.optimizers.schedules.CosineDecay(
            lr * 0.1, decay_steps=epochs * steps_per_epoch, warmup_target=lr,
            warmup_steps=min(2 * steps_per_epoch, epochs * steps_per_epoch // 10))
        model.compile(optimizer=keras.optimizers.Adam(schedule),
                      loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
                      metrics=["accuracy"])
        state = {"epoch": 0, "best_val": 0.0, "best_epoch": 0, "wall_time_s": 0.0}

    def pipeline(x, y, training):
        ds = tf.data.Dataset.from_tensor_slices((x, tf.one_hot(y, n_classes)))
        if training:
            ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(batch_size)
        if training and augment:
            ds = ds.map(_augment, num_parallel_calls=tf.data.AUTOTUNE)
        return ds.prefetch(tf.data.AUTOTUNE)

    train_ds, val_ds = pipeline(x_tr, y_tr, True), pipeline(x_va, y_va, False)
    size = model.input_shape[1]
    command = "emojicall " + " ".join(shlex.quote(a) for a in sys.argv[1:])

    class Checkpoint(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.t0 = time.time()

        def on_epoch_end(self, epoch, logs=None):
            state["wall_time_s"] += time.time() - self.t0
            self.t0 = time.time()
            state["epoch"] = epoch + 1
            if logs["val_accuracy"] > state["best_val"]:
                state["best_val"], state["best_epoch"] = float(logs["val_accuracy"]), epoch + 1
                _save_inference_copy(model, out / mf.KERAS)
            if keep_checkpoint:
                model.save(out / mf.CHECKPOINT)
            state_path.write_text(json.dumps(state, indent=2) + "\n")
            if epoch + 1 - state["best_epoch"] >= patience:
                print(f"early stop: no val_accuracy gain for {patience} epochs")
                self.model.stop_training = True

    if state["epoch"] < epochs and state["epoch"] - state["best_epoch"] < patience:
        model.fit(train_ds, validation_data=val_ds, epochs=epochs, initial_epoch=state["epoch"],
                  verbose=1 if sys.stdout.isatty() else 2,
                  callbacks=[keras.callbacks.CSVLogger(str(out / mf.LOG), append=True), Checkpoint()])

    best = keras.models.load_model(out / mf.KERAS, safe_mode=True, compile=False)
    export_tflite(best, out / mf.TFLITE)
    meta = {
        "name": out.name, "arch": arch, "labels": list(LABELS), "input_size": int(size),
        "params": int(best.count_params()), "seed": seed, "command": command,
        "data": Path(data).name, "epochs_run": state["epoch"], "best_epoch": state["best_epoch"],
        "val_accuracy": round(state["best_val"], 4), "wall_time_s": round(state["wall_time_s"], 1),
        "recipe": {"batch_size": batch_size, "lr": lr, "schedule": "cosine+warmup", "augment": augment,
                   "label_smoothing": label_smoothing, "val_fraction": val_fraction, "patience": patience},
    }
    mf.write_meta(out, meta)
    print(f"saved {out}: best val_accuracy {state['best_val']:.4f} at epoch {state['best_epoch']}")
    return meta


def _augment(x, y):
    """Per-batch random horizontal flip and +-4 px shift: cheap on the CPU, and the two that pay most on FER."""
    import tensorflow as tf

    flip = tf.random.uniform([tf.shape(x)[0], 1, 1, 1]) < 0.5
    x = tf.where(flip, tf.image.flip_left_right(x), x)
    size = tf.shape(x)[1]
    padded = tf.pad(x, [[0, 0], [4, 4], [4, 4], [0, 0]], mode="REFLECT")
    dy, dx = tf.random.uniform([], 0, 9, tf.int32), tf.random.uniform([], 0, 9, tf.int32)
    return padded[:, dy:dy + size, dx:dx + size, :], y


def _save_inference_copy(model, path: Path) -> None:
    """The best weights without optimizer state: what evaluate and export read, a third of the size."""
    import keras

    # from_config gives an uncompiled twin (clone_model keeps the optimizer, tripling the file).
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    clone.save(path)
