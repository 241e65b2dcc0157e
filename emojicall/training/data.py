"""One FER-2013 loader for the three layouts people have: our .npz, Kaggle's fer2013.csv, and train/ + test/ folders.

Every layout returns uint8 images (N, 48, 48) and int64 labels in emojicall.labels.LABELS order
(FER-2013's original order), so a model never depends on which layout it was trained from.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..labels import LABELS, label_index

SPLITS = ("train", "publictest", "privatetest", "test")
_USAGE = {"train": ("Training",), "publictest": ("PublicTest",), "privatetest": ("PrivateTest",),
          "test": ("PublicTest", "PrivateTest")}
_IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp"}
DEFAULT_DATA = Path("../shared/data/fer2013/fer2013.npz")


def find_shared(relative: Path) -> Path | None:
    """A ../shared file, looked up from the working directory and from the source checkout."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = (base / relative).resolve()
        if candidate.exists():
            return candidate
    return None


def default_data_path() -> Path:
    """The shared FER-2013 archive."""
    found = find_shared(DEFAULT_DATA)
    if found is None:
        raise UserError(f"no FER-2013 data found at {DEFAULT_DATA}: pass --data fer2013.npz|fer2013.csv|FOLDER")
    return found


def load_fer(path: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Load one split ('train', 'publictest', 'privatetest' or 'test') from any supported layout."""
    if split not in SPLITS:
        raise UserError(f"unknown split '{split}': use one of {', '.join(SPLITS)}")
    path = Path(path)
    if not path.exists():
        raise UserError(f"data not found: {path}: pass --data fer2013.npz|fer2013.csv|FOLDER")
    if path.is_dir():
        images, labels = _load_folder(path, split)
    elif path.suffix == ".npz":
        images, labels = _load_npz(path, split)
    elif path.suffix == ".csv":
        images, labels = _load_csv(path, split)
    else:
        raise UserError(f"unsupported data file {path}: expected a .npz, Kaggle's fer2013.csv or a folder")
    if len(images) == 0:
        raise UserError(f"split '{split}' of {path} holds no images: this copy may lack that split")
    return images, labels


def _load_npz(path: Path, split: str):
    try:
        with np.load(path, allow_pickle=False) as d:
            images, labels, usage = d["images"], d["labels"], d["usage"]
            usage_names = [str(u) for u in d["usage_names"]] if "usage_names" in d.files else \
                ["Training", "PublicTest", "PrivateTest"]
            class_names = [str(c) for c in d["class_names"]] if "class_names" in d.files else list(LABELS)
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"cannot read {path} as a FER-2013 .npz ({exc}): re-download or convert it") from None
    # Remap in case an archive stores another class order than ours.
    remap = np.array([label_index(c) for c in class_names], dtype=np.int64)
    wanted = [usage_names.index(u) for u in _USAGE[split] if u in usage_names]
    mask = np.isin(usage, wanted)
    return images[mask].astype(np.uint8), remap[labels[mask].astype(np.int64)]


def _load_csv(path: Path, split: str):
    images, labels = [], []
    wanted = set(_USAGE[split])
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            missing = {"emotion", "pixels", "Usage"} - set(reader.fieldnames or ())
            if missing:
                raise UserError(f"{path} is not Kaggle's fer2013.csv: missing column(s) {', '.join(sorted(missing))}")
            for n, row in enumerate(reader, start=2):
                if row["Usage"] not in wanted:
                    continue
                pixels = np.array(row["pixels"].split(), dtype=np.uint8)
                if pixels.size != 48 * 48:
                    raise UserError(f"{path}, line {n}: expected 2304 pixels, found {pixels.size}")
                images.append(pixels.reshape(48, 48))
                labels.append(int(row["emotion"]))  # fer2013.csv uses our (the original) order
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None
    if not images:
        return np.zeros((0, 48, 48), np.uint8), np.zeros((0,), np.int64)
    return np.stack(images), np.array(labels, dtype=np.int64)


def _load_folder(root: Path, split: str):
    import cv2

    sub = {"train": "train", "test": "test"}.get(split)
    if sub is None:
        raise UserError(f"the folder layout has only train/ and test/: split '{split}' needs the .npz or .csv")
    base = root / sub
    if not base.is_dir():
        raise UserError(f"{root} has no {sub}/ folder: expected {sub}/<class>/*.png")
    images, labels = [], []
    for class_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        try:
            label = label_index(class_dir.name)
        except ValueError as exc:
            raise UserError(f"{class_dir}: {exc}") from None
        for file in sorted(class_dir.iterdir()):
            if file.suffix.lower() not in _IMAGE_EXTS:
                continue
            img = cv2.imread(str(file), cv2.IMREAD_GRAYSCALE)
            if img is None:
                raise UserError(f"cannot read image {file}: delete or replace it")
            if img.shape != (48, 48):
                img = cv2.resize(img, (48, 48), interpolation=cv2.INTER_AREA)
            images.append(img)
            labels.append(label)
    if not images:
        return np.zeros((0, 48, 48), np.uint8), np.zeros((0,), np.int64)
    return np.stack(images), np.array(labels, dtype=np.int64)


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val) with `fraction` of every class held out, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    train_idx, val_idx = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_val = int(round(len(idx) * fraction))
        val_idx.append(idx[:n_val])
        train_idx.append(idx[n_val:])
    return np.sort(np.concatenate(train_idx)), np.sort(np.concatenate(val_idx))
