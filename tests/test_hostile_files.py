"""Bad files, made from real ones: truncated or corrupt videos and images, broken or code-carrying models, broken
emoji packs, corrupt settings and data. Each gives one line naming the file, no traceback; the CLI exits 2."""
import json
import logging
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from conftest import ROOT, shared_path
from emojicall.errors import UserError
from faulty import clip_frames, model_dir

BUILD_MODELS = r"""
import json, os, sys
from pathlib import Path
out, meta, marker = Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text()), sys.argv[3]
S = meta["input_size"]  # the shipped model's: only the fault under test differs
from emojicall.tfquiet import import_tensorflow
import_tensorflow()
import keras
import numpy as np
from emojicall.training.export import export_tflite

def save(name, model, tflite=False):
    d = out / name
    d.mkdir(parents=True)
    model.save(d / "model.keras")
    if tflite:
        export_tflite(model, d / "model.tflite")
    (d / "meta.json").write_text(json.dumps(meta))
    return d

ns = {}  # the marker path is a constant inside the lambda's code, so the saved bytecode carries it
exec(f"f = lambda x: (open({marker!r}, 'w').write('code from a model file ran'), x)[1]", ns)
inp = keras.Input((S, S, 1))
d = save("lambda", keras.Model(inp, keras.layers.Dense(7, activation="softmax")(
    keras.layers.Flatten()(keras.layers.Lambda(ns["f"])(inp)))))
os.remove(marker)  # building the model ran the lambda once
keras.models.load_model(d / "model.keras", safe_mode=False)(np.zeros((1, S, S, 1), np.float32))
assert os.path.exists(marker), "an unsafe load runs the file's code: the test model is the real threat"
os.remove(marker)
inp = keras.Input((S, S, 1))
save("five_classes", keras.Model(inp, keras.layers.Dense(5, activation="softmax")(keras.layers.Flatten()(inp))),
     tflite=True)
"""


def _cli(*args, cwd=ROOT):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "emojicall", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=env)


def _refused(r, *names):
    """Exit 2 and exactly one stderr line, `emojicall: ...`, naming each of `names`."""
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert len(lines) == 1 and lines[0].startswith("emojicall: "), lines
    for name in names:
        assert str(name) in lines[0], (name, lines[0])
    return lines[0]


def _truncate(src, dst, fraction):
    data = src.read_bytes()
    dst.write_bytes(data[:int(len(data) * fraction)])
    return dst


@pytest.fixture(scope="module")
def smile():
    return shared_path("media", "videos", "webcam", "pyfeat_single_face_smile.mp4")


# --- videos and images -------------------------------------------------------------------------------------

def test_truncated_mp4_is_refused_by_name(tmp_path, smile):
    bad = _truncate(smile, tmp_path / "cut.mp4", 0.3)  # the index (moov) sits at the end: nothing decodes
    line = _refused(_cli("run", "--source", bad, "--output", "none", "--model", model_dir()), bad)
    assert "re-encode" in line


def test_random_bytes_named_like_a_video_are_refused(tmp_path):
    bad = tmp_path / "noise.mkv"
    bad.write_bytes(np.random.default_rng(1).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    _refused(_cli("run", "--source", bad, "--output", "none", "--model", model_dir()), bad)


def test_truncated_mkv_plays_what_is_there_and_ends_cleanly(tmp_path):
    clip = shared_path("media", "videos", "webcam", "intel_asl_yes.mkv")  # 65 frames
    cut = _truncate(clip, tmp_path / "cut.mkv", 0.4)
    out = tmp_path / "out.avi"
    r = _cli("run", "--source", cut, "--output", out, "--model", model_dir())
    assert r.returncode == 0 and r.stderr == "", r.stderr  # FFmpeg's own complaints stay off the terminal
    assert 5 <= len(clip_frames(out)) < 65


@pytest.mark.parametrize("kind", ["truncated jpeg", "truncated png", "bit-flipped png", "text named .png"])
def test_damaged_image_is_refused_by_name(kind, tmp_path):
    photo = shared_path("media", "face_boxes", "negatives", "opencv_baboon.jpg")
    frame = shared_path("media", "face_boxes", "silver_cc_frames", "1001_DFA_ANG_XX_f030.png")
    if kind == "truncated jpeg":
        bad = _truncate(photo, tmp_path / "photo.jpg", 0.5)
    elif kind == "truncated png":
        bad = _truncate(frame, tmp_path / "frame.png", 0.5)
    elif kind == "bit-flipped png":
        data = bytearray(frame.read_bytes())
        data[len(data) // 3: len(data) // 3 + 64] = bytes(64)  # zeroed inside the compressed pixel data
        bad = tmp_path / "frame.png"
        bad.write_bytes(bytes(data))
    else:
        bad = tmp_path / "notes.png"
        bad.write_text("not an image at all\n")
    line = _refused(_cli("run", "--source", bad, "--output", "none", "--model", model_dir()), bad)
    assert "cannot read image" in line


def test_a_damaged_image_in_a_folder_is_skipped_with_one_line(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(shared_path("media", "face_boxes", "silver_cc_frames", "1001_DFA_HAP_XX_f040.png"), folder / "a.png")
    _truncate(shared_path("media", "face_boxes", "negatives", "opencv_baboon.jpg"), folder / "b.jpg", 0.5)
    out = tmp_path / "out.avi"
    r = _cli("run", "--source", folder, "--output", out, "--model", model_dir())
    assert r.returncode == 0, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("emojicall: skipping") and "b.jpg" in lines[0], lines
    assert len(clip_frames(out)) == 1


# --- models ------------------------------------------------------------------------------------------------

def _model_copy(tmp_path, name="model"):
    d = tmp_path / name
    shutil.copytree(model_dir(), d, ignore=shutil.ignore_patterns("*.keras", "*.csv", "state.json"))
    return d


@pytest.mark.parametrize("damage", ["truncated", "empty", "random bytes"])
def test_damaged_tflite_is_refused_by_name(damage, tmp_path, smile):
    d = _model_copy(tmp_path)
    f = d / "model.tflite"
    if damage == "truncated":
        _truncate(f, f, 0.5)
    elif damage == "empty":
        f.write_bytes(b"")
    else:
        f.write_bytes(np.random.default_rng(2).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    _refused(_cli("run", "--source", smile, "--output", "none", "--model", d), f)


@pytest.mark.parametrize("meta", ["{not json", '{"labels": ["happy"], "input_size": 48}', "input_size 64"])
def test_broken_or_mismatched_meta_is_refused_by_name(meta, tmp_path, smile):
    d = _model_copy(tmp_path)
    if meta == "input_size 64":  # meta.json and the model disagree on the input shape
        m = json.loads((d / "meta.json").read_text())
        (d / "meta.json").write_text(json.dumps({**m, "input_size": 64}))
        line = _refused(_cli("run", "--source", smile, "--output", "none", "--model", d), d / "model.tflite")
        assert "input shape" in line
    else:
        (d / "meta.json").write_text(meta)
        _refused(_cli("run", "--source", smile, "--output", "none", "--model", d), d / "meta.json")


@pytest.fixture(scope="module")
def built_models(tmp_path_factory):
    """Built by Keras in a child process: a .keras whose Lambda layer writes a marker file when run, and a
    model with 5 outputs instead of 7 (as .keras and .tflite)."""
    root = tmp_path_factory.mktemp("hostile_models")
    marker = root / "marker"
    r = subprocess.run([sys.executable, "-c", BUILD_MODELS, str(root), str(model_dir() / "meta.json"), str(marker)],
                       cwd=ROOT, capture_output=True, text=True, timeout=600,
                       env={**os.environ, "PYTHONPATH": str(ROOT), "KERAS_HOME": str(root / "keras_home")})
    assert r.returncode == 0, r.stderr[-3000:]
    return root, marker


@pytest.mark.slow
def test_model_carrying_code_is_refused_and_its_code_never_runs(built_models, smile):
    from emojicall.classifier import EmotionClassifier

    root, marker = built_models
    with pytest.raises(UserError, match="carries Python code"):
        EmotionClassifier(root / "lambda", backend="keras")
    line = _refused(_cli("run", "--source", smile, "--output", "none", "--model", root / "lambda",
                         "--backend", "keras", "--max-frames", "3"), root / "lambda" / "model.keras")
    assert "never run" in line
    assert not marker.exists()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tflite", "keras"])
def test_model_with_the_wrong_number_of_outputs_is_refused(built_models, smile, backend):
    root, _ = built_models
    file = root / "five_classes" / ("model.tflite" if backend == "tflite" else "model.keras")
    line = _refused(_cli("run", "--source", smile, "--output", "none", "--model", root / "five_classes",
                         "--backend", backend), file)
    assert "output shape" in line and "7 classes" in line


def test_pickled_objects_in_data_files_are_refused_not_run(tmp_path):
    from emojicall.training.data import load_fer

    marker = tmp_path / "marker"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    evil = tmp_path / "fer2013.npz"
    np.savez(evil, images=np.array([Payload()], dtype=object), labels=np.zeros(1), usage=np.zeros(1))
    with np.load(evil, allow_pickle=True) as d:  # an unsafe load runs the payload: the file is a real threat
        d["images"]
    assert marker.exists()
    marker.unlink()
    with pytest.raises(UserError, match="cannot read"):
        load_fer(evil, "train")
    assert not marker.exists()


# --- emoji packs -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["missing", "truncated", "no alpha", "not a png"])
def test_broken_emoji_pack_is_named_and_the_app_falls_back_to_the_bundled_pack(damage, tmp_path, smile, caplog):
    from emojicall.controller import Controller
    from emojicall.emojis import bundled_pack
    from emojicall.paths import bundled_emojis
    from emojicall.settings import Settings

    pack = tmp_path / "pack"
    shutil.copytree(bundled_emojis(), pack)
    bad = pack / "happy.png"
    if damage == "missing":
        bad.unlink()
    elif damage == "truncated":
        _truncate(bad, bad, 0.5)
    elif damage == "no alpha":
        cv2.imwrite(str(bad), cv2.imread(str(bad), cv2.IMREAD_COLOR))
    else:
        bad.write_text("<svg/>")
    with caplog.at_level(logging.WARNING):  # the tray's path: the saved pack is broken at start-up
        ctl = Controller(Settings(camera=smile, pack=str(pack), packs=[str(pack)]))
    assert ctl.compositor.pack is bundled_pack()
    what = ctl.problems["emoji pack"].what
    assert str(bad) in what and "bundled" in what  # shown in the tray menu and title
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(bad) in warnings[0] and "bundled" in warnings[0], warnings
    # Asked for explicitly on the command line, the broken pack is an error that names the file.
    _refused(_cli("run", "--source", smile, "--output", "none", "--model", model_dir(), "--emoji-dir", pack), bad)


# --- settings (cut-short, garbage, non-object and outdated files are in tests/test_settings.py) ---------------

def test_a_folder_where_the_settings_file_should_be_gives_defaults_and_one_warning(tmp_path, caplog):
    from emojicall import settings

    path = tmp_path / "settings.json"
    path.mkdir()
    with caplog.at_level(logging.WARNING):
        loaded = settings.load(path)
    assert loaded == settings.Settings()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(path) in warnings[0] and "\n" not in warnings[0], warnings


def test_a_video_without_a_single_frame_is_not_called_corrupt(tmp_path):
    """A fragmented MP4 whose recording stopped before its first frame: well-formed, just empty."""
    import av

    empty = tmp_path / "empty.mp4"
    with av.open(str(empty), "w", format="mp4", options={"movflags": "frag_keyframe+empty_moov"}) as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        container.start_encoding()
    line = _refused(_cli("run", "--source", empty, "--output", "none", "--detector", "haar"), empty)
    assert "without a single frame" in line and "corrupt" not in line  # before: "corrupt ... re-encode it"
