"""`emojicall train`: fit one architecture on FER-2013 with a fixed seed, checkpointing every epoch.

Resumable: the checkpoint holds model and optimizer (the learning-rate schedule is a function of the optimizer's
step count), state.json holds the epoch, the best validation score and the recipe, so `--resume` continues where
a killed run stopped, on any machine, with the same data order and augmentation stream.
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
from .augment import CLASS_WEIGHTS, P_DEGRADE, POLICIES, augment_batch, class_weights
from .data import load_fer, stratified_split

OPTIMIZERS = ("adam", "adamw", "sgd")
# Per-architecture defaults for every recipe option left unset; mlp and cnn keep the method's original recipe.
_ORIGINAL = {"aug_policy": "shift", "label_smoothing": 0.0, "class_weight": "none", "mixup": 0.0,
             "optimizer": "adam", "weight_decay": 0.0}
_FERNET = {"aug_policy": "affine", "label_smoothing": 0.1, "class_weight": "sqrt", "mixup": 0.0,
           "optimizer": "adamw", "weight_decay": 0.05}
RECIPES = {"mlp": _ORIGINAL, "cnn": _ORIGINAL, "fernet": _FERNET, "fernet_l": _FERNET}


def train(arch: str, data: Path, out: Path, *, epochs: int, batch_size: int, lr: float, seed: int,
          val_fraction: float = 0.1, patience: int = 10, augment: bool | None = None,
          label_smoothing: float | None = None, limit: int | None = None, resume: bool = False,
          keep_checkpoint: bool = True, size: int | None = None, aug_policy: str | None = None,
          class_weight: str | None = None, mixup: float | None = None, optimizer: str | None = None,
          weight_decay: float | None = None, quantize: str = "none", init: Path | None = None,
          soft_targets: float = 0.0, teachers: tuple[str, ...] = (), distill: float = 0.0,
          degrade_p: float | None = None) -> dict:
    from ..tfquiet import import_tensorflow

    import_tensorflow("training")
    import keras

    from .architectures import ARCHS
    from .export import QUANTIZE, export_tflite

    if arch not in ARCHS:
        raise UserError(f"unknown architecture '{arch}': use one of {', '.join(ARCHS)}")
    given = {"aug_policy": aug_policy, "label_smoothing": label_smoothing, "class_weight": class_weight,
             "mixup": mixup, "optimizer": optimizer, "weight_decay": weight_decay}
    recipe = {k: (v if v is not None else RECIPES.get(arch, _ORIGINAL)[k]) for k, v in given.items()}
    recipe.update(batch_size=batch_size, lr=lr, schedule="cosine+warmup", size=size,
                  augment=(arch != "mlp") if augment is None else augment,
                  val_fraction=val_fraction, patience=patience, quantize=quantize, seed=seed,
                  init=str(init) if init else None, soft_targets=soft_targets,
                  teachers=[str(t) for t in teachers], distill=distill,
                  degrade_p=P_DEGRADE if degrade_p is None else degrade_p)
    if quantize not in QUANTIZE:
        raise UserError(f"unknown quantization '{quantize}': use one of {', '.join(QUANTIZE)}")
    _check_recipe(recipe)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)

    state_path = out / mf.STATE
    resuming = resume and (out / mf.CHECKPOINT).exists()
    if resuming:
        model = keras.models.load_model(out / mf.CHECKPOINT, safe_mode=True)
        state = json.loads(state_path.read_text())
        # The checkpoint holds the optimizer and loss; the stored recipe restores the data stream to match.
        recipe.update({k: v for k, v in state.get("recipe", {}).items() if k not in ("patience", "quantize")})
        seed = recipe["seed"]
        print(f"resuming {out} at epoch {state['epoch']} (best val_accuracy {state['best_val']:.4f})")
    else:
        model = ARCHS[arch](recipe["size"]) if recipe["size"] else ARCHS[arch]()
        if init:
            _load_weights(model, Path(init))
    recipe["size"] = size = int(model.input_shape[1])

    images, labels = load_fer(data, "train")
    if limit:
        images, labels = images[:limit], labels[:limit]
    tr, va = stratified_split(labels, recipe["val_fraction"], seed)
    steps_per_epoch = int(np.ceil(len(tr) / recipe["batch_size"]))
    weights = class_weights(labels[tr], recipe["class_weight"], len(LABELS))
    targets = _targets(labels, recipe.get("soft_targets", 0.0), limit)
    if recipe["distill"] > 0:
        targets = (1 - recipe["distill"]) * targets + recipe["distill"] * _teacher_targets(recipe["teachers"], images)
    targets = targets[tr]
    train_ds = _train_stream(images[tr], targets, labels[tr], weights, recipe, seed, steps_per_epoch,
                             start_epoch=state["epoch"] if resuming else 0)
    # --val-fraction 0: the final fit on all of train once a recipe is settled; every epoch counts as the best,
    # which is where a cosine schedule that ends at zero puts it.
    val_ds = _val_stream(images[va], labels[va], size, recipe["batch_size"]) if len(va) else None

    if not resuming:
        schedule = keras.optimizers.schedules.CosineDecay(
            lr * 0.1, decay_steps=epochs * steps_per_epoch, warmup_target=lr,
            warmup_steps=min(2 * steps_per_epoch, epochs * steps_per_epoch // 10))
        model.compile(optimizer=_optimizer(recipe, schedule),
                      loss=keras.losses.CategoricalCrossentropy(label_smoothing=recipe["label_smoothing"]),
                      metrics=["accuracy"])
        state = {"epoch": 0, "best_val": 0.0, "best_epoch": 0, "wall_time_s": 0.0}
    state["recipe"] = recipe
    # `emojicall train ...`, or the script that called train() (its exact call is then in that script).
    cli = Path(sys.argv[0]).name in ("emojicall", "__main__.py")
    command = ("emojicall " if cli else "python ") + " ".join(shlex.quote(a) for a in sys.argv[int(cli):])
    n_train = len(tr)

    class Checkpoint(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.time()

        def on_epoch_end(self, epoch, logs=None):
            elapsed = time.time() - self.t0
            state["wall_time_s"] += elapsed
            state["images_per_s"] = round(n_train / elapsed, 1)  # includes validation: what an epoch costs
            state["epoch"] = epoch + 1
            print(f"epoch {epoch + 1}: {elapsed:.1f} s, {state['images_per_s']:.0f} training images/s")
            score = logs.get("val_accuracy", 1.0)
            if score > state["best_val"] or val_ds is None:
                state["best_val"], state["best_epoch"] = float(score) if val_ds else 0.0, epoch + 1
                _save_inference_copy(model, out / mf.KERAS)
            if keep_checkpoint:
                model.save(out / mf.CHECKPOINT)
            state_path.write_text(json.dumps(state, indent=2) + "\n")
            if epoch + 1 - state["best_epoch"] >= patience:
                print(f"early stop: no val_accuracy gain for {patience} epochs")
                self.model.stop_training = True

    if state["epoch"] < epochs and state["epoch"] - state["best_epoch"] < patience:
        model.fit(train_ds, steps_per_epoch=steps_per_epoch, validation_data=val_ds, epochs=epochs,
                  initial_epoch=state["epoch"], shuffle=False, verbose=1 if sys.stdout.isatty() else 2,
                  callbacks=[keras.callbacks.CSVLogger(str(out / mf.LOG), append=True), Checkpoint()])

    best = keras.models.load_model(out / mf.KERAS, safe_mode=True, compile=False)
    export_tflite(best, out / mf.TFLITE, recipe["quantize"])
    meta = {
        "name": out.name, "arch": arch, "labels": list(LABELS), "input_size": int(size),
        "params": int(best.count_params()), "seed": seed, "command": command,
        "data": Path(data).name, "epochs_run": state["epoch"], "best_epoch": state["best_epoch"],
        "val_accuracy": round(state["best_val"], 4) if val_ds else None, "wall_time_s": round(state["wall_time_s"], 1),
        "train_images_per_s": state.get("images_per_s"), "recipe": recipe,
        "quantization": {"none": "float32"}.get(recipe["quantize"], recipe["quantize"]),  # what model.tflite holds
    }
    mf.write_meta(out, meta)
    print(f"saved {out}: " + (f"best val_accuracy {state['best_val']:.4f} at epoch {state['best_epoch']}" if val_ds
                               else f"no validation split, weights of epoch {state['best_epoch']}"))
    return meta


def _load_weights(model, path: Path) -> None:
    """Warm restart: the weights of an earlier run of the same architecture, with a fresh optimizer and schedule
    (a finished cosine schedule sits at zero learning rate, so --resume cannot train it further)."""
    import keras

    try:
        src = keras.models.load_model(path, safe_mode=True, compile=False)
        model.set_weights(src.get_weights())
    except (ValueError, OSError) as e:
        raise UserError(f"--init {path}: not a model of this architecture ({str(e).splitlines()[0][:120]})") from None


def _check_recipe(r: dict) -> None:
    if r["aug_policy"] not in POLICIES:
        raise UserError(f"unknown augmentation '{r['aug_policy']}': use one of {', '.join(POLICIES)}")
    if r["class_weight"] not in CLASS_WEIGHTS:
        raise UserError(f"unknown class weighting '{r['class_weight']}': use one of {', '.join(CLASS_WEIGHTS)}")
    if r["optimizer"] not in OPTIMIZERS:
        raise UserError(f"unknown optimizer '{r['optimizer']}': use one of {', '.join(OPTIMIZERS)}")
    if r["mixup"] < 0 or r["weight_decay"] < 0 or not 0 <= r["label_smoothing"] < 1:
        raise UserError("--mixup and --weight-decay must be >= 0 and --label-smoothing in [0, 1)")
    if r["init"] and not Path(r["init"]).is_file():
        raise UserError(f"--init {r['init']}: no such model file; give a model.keras or checkpoint.keras")
    if not 0 <= r.get("soft_targets", 0.0) <= 1:
        raise UserError(f"soft targets weight {r['soft_targets']}: use 0 (FER-2013 labels only) "
                        "up to 1 (FER+ votes only)")
    if not 0 <= r.get("distill", 0.0) <= 1 or (r.get("distill", 0.0) > 0) != bool(r.get("teachers")):
        raise UserError("--distill needs --teacher MODEL (one or more) and a weight in (0, 1]")
    if not 0 <= r.get("degrade_p", 0.0) <= 1:
        raise UserError(f"--degrade-p {r['degrade_p']}: use a share of the faces between 0 and 1")
    if not 0 <= r["val_fraction"] < 0.5:
        raise UserError(f"--val-fraction {r['val_fraction']}: use 0 (train on everything) up to 0.5")
    if r["size"] is not None and not 16 <= r["size"] <= 96:
        raise UserError(f"--size {r['size']}: use an input size between 16 and 96 pixels (FER images are 48)")


def _optimizer(recipe: dict, schedule):
    import keras

    wd = recipe["weight_decay"] or None
    if recipe["optimizer"] == "sgd":
        return keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True, weight_decay=wd)
    if recipe["optimizer"] == "adamw":
        return keras.optimizers.AdamW(schedule, weight_decay=wd or 0.0)
    return keras.optimizers.Adam(schedule, weight_decay=wd)


def _targets(labels: np.ndarray, soft: float, limit: int | None) -> np.ndarray:
    """(N, 7) training targets: one-hot FER-2013 labels, mixed with weight `soft` with FER+'s ten-annotator vote
    shares where FER+ has a vote for one of our classes (a face read as fear by 4 of 10 is not pure anger)."""
    onehot = np.eye(len(LABELS), dtype=np.float32)[labels]
    if soft <= 0:
        return onehot
    from .ferplus import soft_targets

    votes = soft_targets("train")[:len(labels)] if limit else soft_targets("train")
    if len(votes) != len(labels):
        raise UserError(f"FER+ has {len(votes)} training rows, the data {len(labels)}: "
                        "soft targets need FER-2013's rows")
    has = votes.sum(axis=1, keepdims=True) > 0
    return np.where(has, (1 - soft) * onehot + soft * votes, onehot).astype(np.float32)


def _teacher_targets(teachers: list[str], images: np.ndarray) -> np.ndarray:
    """(N, 7) mean probabilities of the teacher models (shipped .tflite, flip TTA) on the clean 48x48 images:
    the student then learns to give the clean picture's answer to its blurred, noisy, re-framed copy."""
    from ..classifier import EmotionClassifier
    from .evaluate import probabilities

    return sum(probabilities(EmotionClassifier(name, tta=True), images) for name in teachers) / len(teachers)


def _train_stream(images: np.ndarray, targets: np.ndarray, labels: np.ndarray, weights: np.ndarray, recipe: dict,
                  seed: int, steps_per_epoch: int, start_epoch: int):
    """Endless batches (x, one-hot y, sample weight); epoch e is a permutation seeded by (seed, e), and batch
    number e * steps_per_epoch + i seeds its augmentation, so resuming at any epoch gives the same stream."""
    import tensorflow as tf

    x_all, y_all, t_all = tf.constant(images), tf.constant(labels.astype(np.int32)), tf.constant(targets)
    w_all, n = tf.constant(weights), len(images)
    size, batch = recipe["size"], recipe["batch_size"]

    def epoch(e):
        order = tf.argsort(tf.random.stateless_uniform([n], tf.stack([tf.cast(seed, tf.int64), e])))
        return tf.data.Dataset.from_tensor_slices(order).batch(batch).enumerate().map(
            lambda i, idx: (e * steps_per_epoch + i, idx))

    def load(step, idx):
        y_idx = tf.gather(y_all, idx)
        x = tf.cast(tf.gather(x_all, idx), tf.float32)[..., None]
        y, w = tf.gather(t_all, idx), tf.gather(w_all, y_idx)
        if recipe["augment"]:
            return augment_batch(x, y, w, step, seed=seed, policy=recipe["aug_policy"], size=size,
                                 mixup=recipe["mixup"], degrade_p=recipe["degrade_p"])
        if x.shape[1] != size:
            x = tf.image.resize(x, [size, size])
        return x, y, w

    ds = tf.data.Dataset.range(start_epoch, 1 << 30).flat_map(epoch)
    return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def _val_stream(images: np.ndarray, labels: np.ndarray, size: int, batch: int):
    """Validation resized the way `emojicall evaluate` and the app resize (cv2, bilinear)."""
    import cv2
    import tensorflow as tf

    if images.shape[1] != size:
        images = np.stack([cv2.resize(im, (size, size)) for im in images])
    x = images[..., None].astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, tf.one_hot(labels, len(LABELS)))).batch(batch).prefetch(2)


def _save_inference_copy(model, path: Path) -> None:
    """The best weights without optimizer state: what evaluate and export read, a third of the size."""
    import keras

    # from_config gives an uncompiled twin (clone_model keeps the optimizer, tripling the file).
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    clone.save(path)
