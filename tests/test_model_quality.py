"""The shipped emotion models, as the app runs them: each committed model loads through EmotionClassifier's
LiteRT runtime and reaches its accuracy bar on a fixed PublicTest slice, and the LiteRT files of the default model
and of fernet_l say what their Keras weights say (a broken or lossy export shows up here, not in a user's call)."""
from pathlib import Path

import numpy as np
import pytest

from emojicall import model_files as mf
from emojicall.classifier import EmotionClassifier
from emojicall.training.data import load_fer
from emojicall.training.evaluate import predict

pytestmark = pytest.mark.slow

# Minimum accuracy on the first SLICE PublicTest images, by model name (meta.json "name", else "arch"): guards a
# few points under what each scores there (mlp 0.469, cnn 0.623, fernet int8 0.661 / 0.679 with TTA, fernet_l int8
# 0.669, fernet_rw int8 0.673 / 0.669 with TTA, fernet_duo 0.681). Issue 6's bar (70% on 1,000 images) is not
# reached, see docs/model.md.
THRESHOLDS = {"mlp": 0.43, "cnn": 0.60, "fernet": 0.64, "fernet_l": 0.65, "fernet_rw": 0.64, "fernet_duo": 0.65}
SLICE = 1000
AGREE_N, AGREE_MIN = 1000, 0.99


@pytest.fixture(scope="module")
def default_model():
    path = mf.resolve_model_dir(None)
    return path, mf.read_meta(path)


@pytest.fixture(scope="module")
def publictest(fer_npz):
    return load_fer(fer_npz, "publictest")


def threshold(meta: dict) -> float:
    for key in (meta.get("name"), meta.get("arch")):
        if key in THRESHOLDS:
            return THRESHOLDS[key]
    pytest.fail(f"no accuracy threshold for default model {meta.get('name')!r} (arch {meta.get('arch')!r}): "
                "add it to THRESHOLDS")


@pytest.mark.parametrize("name", [None, "fernet_duo", "fernet", "fernet_rw", "fernet_l", "cnn", "mlp"],
                         ids=["default", "fernet_duo", "fernet", "fernet_rw", "fernet_l", "cnn", "mlp"])
def test_committed_model_reaches_its_accuracy_threshold_through_the_app_runtime(name, publictest):
    path = mf.resolve_model_dir(name)
    meta = mf.read_meta(path)
    images, labels = publictest
    tta = mf.APP_TTA and name is None  # the default model is checked the way the app runs it
    accuracy = float(np.mean(predict(EmotionClassifier(path, tta=tta), images[:SLICE]) == labels[:SLICE]))
    assert accuracy >= threshold(meta), f"{path}: {accuracy:.3f} on the first {SLICE} PublicTest images"


def _crops(publictest, size, n=64):
    import cv2

    return np.stack([cv2.resize(im, (size, size)) for im in publictest[0][:n]])[..., None].astype(np.float32)


def test_flip_tta_on_litert_averages_each_face_with_its_mirror(publictest):
    path = mf.resolve_model_dir("fernet_rw")
    crops = _crops(publictest, mf.read_meta(path)["input_size"])
    plain, tta = EmotionClassifier(path), EmotionClassifier(path, tta=True)
    expected = (plain.predict_crops(crops) + plain.predict_crops(crops[:, :, ::-1].copy())) / 2
    got = tta.predict_crops(crops)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert not np.allclose(got, plain.predict_crops(crops), atol=1e-3)  # the mirror really changed something
    # LiteRT takes float32 only: uint8 crops (as a caller may pass) must go through both passes alike.
    np.testing.assert_allclose(tta.predict_crops(crops.astype(np.uint8)), got, atol=1e-5)


def test_default_model_is_its_two_members_one_on_the_crop_one_on_the_mirror(default_model, publictest):
    path, meta = default_model
    ens = meta["ensemble"]
    # meta.json records the members as the build command named them (models/NAME): load them by name
    on_crop, on_mirror = (EmotionClassifier(Path(ens[k]).name) for k in ("on_crop", "on_mirror"))
    crops = _crops(publictest, meta["input_size"])
    w = ens["weight_on_crop"]
    expected = w * on_crop.predict_crops(crops) + (1 - w) * on_mirror.predict_crops(crops[:, :, ::-1].copy())
    model = EmotionClassifier(path, tta=mf.APP_TTA)
    assert not model.tta  # the mirror is inside the model: flip TTA on top would double the work
    np.testing.assert_allclose(model.predict_crops(crops), expected, atol=2e-3)  # int8 activations round apart


@pytest.mark.parametrize("name", [None, "fernet", "fernet_rw", "fernet_l"],
                         ids=["default", "fernet", "fernet_rw", "fernet_l"])
def test_litert_and_keras_files_agree_on_publictest(name, publictest):
    path = mf.resolve_model_dir(name)
    if not (path / mf.KERAS).is_file():
        pytest.skip(f"{path} ships no {mf.KERAS} to compare with")
    images = publictest[0][:AGREE_N]
    lite = predict(EmotionClassifier(path, backend="tflite"), images)
    keras = predict(EmotionClassifier(path, backend="keras"), images)
    agreement = float(np.mean(lite == keras))
    assert agreement >= AGREE_MIN, f"{path}: LiteRT and Keras agree on {agreement:.3f} of {AGREE_N} faces"
