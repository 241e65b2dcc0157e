"""A 1-epoch smoke training on a tiny slice of the real FER-2013 train split, then evaluate on real test rows."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT
from emojicall.classifier import EmotionClassifier
from emojicall.labels import LABELS


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "emojicall", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def smoke_model(tmp_path_factory, fer_npz):
    out = tmp_path_factory.mktemp("models") / "smoke"
    r = _cli("train", "--arch", "cnn", "--data", str(fer_npz), "--out", str(out), "--epochs", "1",
             "--limit", "640", "--seed", "3")
    assert r.returncode == 0, r.stderr[-2000:]
    return out


def test_smoke_training_writes_a_complete_resumable_model_folder(smoke_model):
    meta = json.loads((smoke_model / "meta.json").read_text())
    assert meta["labels"] == list(LABELS) and meta["input_size"] == 48 and meta["arch"] == "cnn"
    assert meta["params"] == 593_383  # the method's CNN, layer for layer
    assert meta["seed"] == 3 and "--limit 640" in meta["command"] and meta["epochs_run"] == 1
    for name in ("model.tflite", "model.keras", "checkpoint.keras", "state.json", "train_log.csv"):
        assert (smoke_model / name).stat().st_size > 0, name
    log = (smoke_model / "train_log.csv").read_text().splitlines()
    assert log[0].startswith("epoch") and len(log) == 2
    clf = EmotionClassifier(smoke_model)
    assert clf.size == 48


def test_resume_continues_from_the_checkpoint(smoke_model, fer_npz):
    r = _cli("train", "--arch", "cnn", "--data", str(fer_npz), "--out", str(smoke_model), "--epochs", "2",
             "--limit", "640", "--seed", "3", "--resume")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "resuming" in r.stdout and "at epoch 1" in r.stdout
    assert len((smoke_model / "train_log.csv").read_text().splitlines()) == 3
    assert json.loads((smoke_model / "meta.json").read_text())["epochs_run"] == 2


def test_evaluate_prints_and_writes_the_scores(smoke_model, fer_npz, tmp_path):
    out = tmp_path / "scores.json"
    r = _cli("evaluate", "--model", str(smoke_model), "--data", str(fer_npz), "--split", "publictest",
             "--limit", "300", "--json", str(out), "--figures", str(tmp_path / "figs"))
    assert r.returncode == 0, r.stderr[-2000:]
    result = json.loads(out.read_text())
    assert {"accuracy", "macro_f1", "per_class", "confusion", "n", "labels"} <= set(result)
    assert result["n"] == 300 and sum(map(sum, result["confusion"])) == 300
    assert result["labels"] == list(LABELS) and set(result["per_class"]) == set(LABELS)
    diag = sum(result["confusion"][i][i] for i in range(7))
    assert result["accuracy"] == pytest.approx(diag / 300, abs=1e-4)
    assert f"accuracy {result['accuracy']:.4f}" in r.stdout and "confusion" in r.stdout
    assert (tmp_path / "figs" / "smoke_confusion.png").stat().st_size > 1000
    assert (tmp_path / "figs" / "smoke_curves.png").stat().st_size > 1000


def test_keras_and_litert_backends_agree(smoke_model, fer_npz):
    import numpy as np

    from emojicall.training.data import load_fer

    x, _ = load_fer(fer_npz, "publictest")
    crops = x[:200, ..., None].astype("float32")
    a = EmotionClassifier(smoke_model, backend="tflite").predict_crops(crops)
    b = EmotionClassifier(smoke_model, backend="keras").predict_crops(crops)
    assert np.abs(a - b).max() < 1e-3


def test_init_on_all_of_train_starts_from_the_given_weights(smoke_model, fer_npz, tmp_path):
    import numpy as np

    from emojicall.training.data import load_fer

    out = tmp_path / "warm"
    r = _cli("train", "--arch", "cnn", "--data", str(fer_npz), "--out", str(out), "--epochs", "1",
             "--limit", "640", "--seed", "3", "--lr", "0", "--init", str(smoke_model / "model.keras"),
             "--val-fraction", "0")
    assert r.returncode == 0, r.stderr[-2000:]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["recipe"]["init"].endswith("model.keras") and meta["val_accuracy"] is None
    assert "no validation split, weights of epoch 1" in r.stdout
    from emojicall.training.figures import read_log

    assert set(read_log(out / "train_log.csv")) == {"epoch", "accuracy", "loss"}  # Keras writes NA for val_*
    # Learning rate 0: the warm-started model is the one it started from, prediction for prediction.
    x, _ = load_fer(fer_npz, "publictest")
    crops = x[:100, ..., None].astype("float32")
    a = EmotionClassifier(smoke_model).predict_crops(crops)
    b = EmotionClassifier(out).predict_crops(crops)
    assert np.abs(a - b).max() < 1e-4


def test_init_from_another_architecture_is_one_clear_line(smoke_model, fer_npz, tmp_path):
    r = _cli("train", "--arch", "mlp", "--data", str(fer_npz), "--out", str(tmp_path / "x"), "--epochs", "1",
             "--limit", "64", "--init", str(smoke_model / "model.keras"))
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "--init" in r.stderr and "not a model of this architecture" in r.stderr


def test_webcam_augmentation_jitters_framing_and_degrades_deterministically(fer_npz):
    import numpy as np
    import tensorflow as tf

    from emojicall.training.augment import augment_batch
    from emojicall.training.data import load_fer

    images, labels = load_fer(fer_npz, "train")
    x = tf.constant(images[:64, ..., None].astype("float32"))
    y, w = tf.one_hot(labels[:64], 7), tf.ones(64)
    a = augment_batch(x, y, w, tf.constant(5, tf.int64), seed=9, policy="webcam", size=44)[0].numpy()
    b = augment_batch(x, y, w, tf.constant(5, tf.int64), seed=9, policy="webcam", size=44)[0].numpy()
    c = augment_batch(x, y, w, tf.constant(6, tf.int64), seed=9, policy="webcam", size=44)[0].numpy()
    assert a.shape == (64, 44, 44, 1) and a.min() >= 0 and a.max() <= 255
    assert np.array_equal(a, b) and not np.array_equal(a, c)  # seeded by (seed, batch number)
    plain = tf.image.resize(x, [44, 44]).numpy()
    # Every face is re-framed (no image passes through untouched) and JPEG leaves integer gray levels.
    assert (np.abs(a - plain).reshape(64, -1).mean(axis=1) > 1).all()
    assert np.array_equal(a, np.round(a))


def test_soft_targets_mix_ferplus_votes_into_the_labels(fer_npz, tmp_path):
    import numpy as np

    from emojicall.training.data import load_fer
    from emojicall.training.ferplus import soft_targets
    from emojicall.training.train import _targets, train

    _, labels = load_fer(fer_npz, "train")
    t = _targets(labels, 0.3, None)
    votes = soft_targets("train")
    row = int(np.flatnonzero((votes.max(axis=1) < 0.9) & (votes.sum(axis=1) > 0))[0])  # a disputed face
    assert np.allclose(t[row], 0.7 * np.eye(7)[labels[row]] + 0.3 * votes[row])
    assert np.allclose(t.sum(axis=1), 1) and np.array_equal(_targets(labels, 0, None), np.eye(7)[labels])
    meta = train("cnn", fer_npz, tmp_path / "soft", epochs=1, batch_size=64, lr=1e-3, seed=3, limit=256,
                 val_fraction=0, aug_policy="webcam", soft_targets=0.3)
    assert meta["recipe"]["soft_targets"] == 0.3 and meta["recipe"]["aug_policy"] == "webcam"


def test_distillation_targets_are_the_teachers_clean_answers(fer_npz, tmp_path):
    import numpy as np
    import pytest

    from emojicall.errors import UserError
    from emojicall.training.data import load_fer
    from emojicall.training.train import _teacher_targets, train

    images, labels = load_fer(fer_npz, "train")
    t = _teacher_targets(["fernet", "fernet_rw"], images[:512])
    # The shipped models, trained on these rows, agree with their labels far above the 7-class chance of 14%
    # and are not one-hot: the disputed faces keep a share for their second class.
    assert np.allclose(t.sum(axis=1), 1, atol=1e-4) and (t.argmax(axis=1) == labels[:512]).mean() > 0.7
    assert (t.max(axis=1) < 0.9).mean() > 0.1
    with pytest.raises(UserError, match="--teacher"):
        train("cnn", fer_npz, tmp_path / "no_teacher", epochs=1, batch_size=64, lr=1e-3, seed=3, limit=64,
              distill=0.5)
    meta = train("cnn", fer_npz, tmp_path / "kd", epochs=1, batch_size=64, lr=1e-3, seed=3, limit=256,
                 val_fraction=0, teachers=("fernet",), distill=0.5)
    assert meta["recipe"]["teachers"] == ["fernet"] and meta["recipe"]["distill"] == 0.5


def test_degrade_p_sets_the_share_of_degraded_faces(fer_npz):
    import numpy as np
    import tensorflow as tf

    from emojicall.training.augment import augment_batch
    from emojicall.training.data import load_fer

    images, labels = load_fer(fer_npz, "train")
    x = tf.constant(images[:256, ..., None].astype("float32"))
    y, w = tf.one_hot(labels[:256], 7), tf.ones(256)

    def run(p):  # same seed and step: the same framing, only the degradations differ
        return augment_batch(x, y, w, tf.constant(3, tf.int64), seed=4, policy="webcam", size=44,
                             degrade_p=p)[0].numpy()

    clean = run(0.0)
    changed = {p: (np.abs(run(p) - clean).reshape(256, -1).max(axis=1) > 0).mean() for p in (0.0, 0.12, 1.0)}
    # Five independent degradations each on 12%: 1 - 0.88^5 = 47% of the faces touched by at least one.
    assert changed[0.0] == 0 and changed[1.0] == 1 and 0.3 < changed[0.12] < 0.65


def test_ensemble_is_one_model_with_the_first_on_the_crop_and_the_second_on_the_mirror(fer_npz, tmp_path):
    import numpy as np

    from emojicall.training.data import load_fer
    from emojicall.training.evaluate import probabilities

    out = tmp_path / "pair"
    r = subprocess.run([sys.executable, "-m", "emojicall.training.ensemble", "--models", "models/fernet",
                        "models/fernet_rw", "--weight", "0.7", "--out", str(out)], cwd=ROOT, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["sees_mirror"] and meta["ensemble"]["weight_on_crop"] == 0.7
    assert (out / "crop.json").read_bytes() == (ROOT / "models/fernet/crop.json").read_bytes()
    images = load_fer(fer_npz, "publictest")[0][:128]
    expected = (0.7 * probabilities(EmotionClassifier(ROOT / "models/fernet"), images)
                + 0.3 * probabilities(EmotionClassifier(ROOT / "models/fernet_rw"), images[:, :, ::-1].copy()))
    for backend in ("tflite", "keras"):
        got = probabilities(EmotionClassifier(out, backend=backend, tta=True), images)
        np.testing.assert_allclose(got, expected, atol=0.02 if backend == "keras" else 2e-3)  # keras: float32


def test_ensemble_of_models_with_different_inputs_is_one_clear_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "emojicall.training.ensemble", "--models", "models/fernet",
                        "models/cnn", "--out", str(tmp_path / "x")], cwd=ROOT, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("error: the two models differ in input size")
    assert not (tmp_path / "x").exists()
