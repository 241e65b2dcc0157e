import csv

import cv2
import numpy as np
import pytest

from emojicall.errors import UserError
from emojicall.labels import LABELS
from emojicall.training.data import load_fer, stratified_split

# Published FER-2013 counts per class in LABELS order (../shared/data/README.md).
TRAIN_COUNTS = [3995, 436, 4097, 7215, 4830, 3171, 4965]
PUBLIC_COUNTS = [467, 56, 496, 895, 653, 415, 607]


def test_npz_splits_match_published_counts(fer_npz):
    x, y = load_fer(fer_npz, "train")
    assert x.shape == (28709, 48, 48) and x.dtype == np.uint8
    assert np.bincount(y, minlength=7).tolist() == TRAIN_COUNTS
    x, y = load_fer(fer_npz, "publictest")
    assert np.bincount(y, minlength=7).tolist() == PUBLIC_COUNTS


def test_npz_privatetest_is_absent_here_and_says_so(fer_npz):
    with pytest.raises(UserError, match="privatetest"):
        load_fer(fer_npz, "privatetest")
    x, _ = load_fer(fer_npz, "test")  # = publictest + privatetest; only publictest rows are in this copy
    assert len(x) == 3589


def test_csv_and_folder_layouts_give_the_same_images_and_labels(fer_npz, tmp_path):
    x, y = load_fer(fer_npz, "publictest")
    pick = np.concatenate([np.flatnonzero(y == c)[:3] for c in range(7)])
    # Kaggle's CSV: emotion in the original order, space-separated pixels, a Usage column.
    csv_path = tmp_path / "fer2013.csv"
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["emotion", "pixels", "Usage"])
        for i in pick:
            w.writerow([int(y[i]), " ".join(map(str, x[i].ravel())), "PublicTest"])
        w.writerow([3, " ".join(["0"] * 2304), "Training"])
    cx, cy = load_fer(csv_path, "publictest")
    assert np.array_equal(cx, x[pick]) and np.array_equal(cy, y[pick])
    assert len(load_fer(csv_path, "train")[0]) == 1
    # Kaggle's folders: alphabetical class names, PNGs; the loader maps names to our order.
    for i in pick:
        d = tmp_path / "folders" / "test" / LABELS[y[i]]
        d.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(d / f"{i}.png"), x[i])
    fx, fy = load_fer(tmp_path / "folders", "test")
    order = np.lexsort((np.arange(len(fy)), fy))
    assert sorted(fy.tolist()) == sorted(y[pick].tolist())
    for img, label in zip(fx[order], fy[order]):
        assert any(np.array_equal(img, x[i]) and y[i] == label for i in pick)


def test_bad_data_inputs_name_the_problem(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_fer(tmp_path / "missing.npz", "train")
    with pytest.raises(UserError, match="unknown split"):
        load_fer(tmp_path, "validation")
    bad = tmp_path / "fer.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(UserError, match="missing column"):
        load_fer(bad, "train")
    (tmp_path / "f" / "train" / "joy").mkdir(parents=True)
    with pytest.raises(UserError, match="unknown emotion class 'joy'"):
        load_fer(tmp_path / "f", "train")


def test_stratified_split_is_reproducible_and_keeps_class_shares(fer_npz):
    _, y = load_fer(fer_npz, "train")
    tr, va = stratified_split(y, 0.1, seed=7)
    tr2, va2 = stratified_split(y, 0.1, seed=7)
    assert np.array_equal(va, va2) and np.array_equal(tr, tr2)
    assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == len(y)
    shares = np.bincount(y[va], minlength=7) / np.bincount(y, minlength=7)
    assert np.all(np.abs(shares - 0.1) < 0.01)
