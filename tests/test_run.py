"""`emojicall run` end to end on real clips: the output video carries the emoji where the face is."""
import os
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest

from conftest import ROOT, shared_path
from emojicall.detectors import create_detector
from emojicall.emojis import bundled_pack


def _cli(*args, cwd=ROOT, timeout=300):
    return subprocess.run([sys.executable, "-m", "emojicall", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def _frames(path):
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            return frames
        frames.append(f)


def _emoji_yellow(patch: np.ndarray) -> float:
    """Share of pixels in the Noto emoji face's yellow (hue ~20-35 in OpenCV units, saturated, bright)."""
    hsv = cv2.cvtColor(patch, cv2.COLOR_BGR2HSV)
    return float(np.mean((hsv[..., 0] >= 18) & (hsv[..., 0] <= 35) & (hsv[..., 1] > 150) & (hsv[..., 2] > 150)))


@pytest.mark.parametrize("clip, extra", [
    (("videos", "webcam", "pyfeat_single_face_smile.mp4"), []),
    (("videos", "expressions", "cremad_actor1001", "1001_DFA_ANG_XX.flv"), []),
    (("videos", "webcam", "pyfeat_single_face_smile.mp4"), ["--no-tta"]),  # default: mirrors batched with faces
])
def test_run_writes_video_with_emoji_on_the_face(clip, extra, tmp_path):
    src = shared_path("media", *clip)
    out = tmp_path / "out.mp4"
    r = _cli("run", "--source", str(src), "--output", str(out), "--max-frames", "30", *extra)
    assert r.returncode == 0, r.stderr
    assert "30 frames, " in r.stdout and f"wrote {out}" in r.stdout
    inputs, outputs = _frames(src)[:30], _frames(out)
    assert len(outputs) == 30 and outputs[0].shape == inputs[0].shape
    haar = create_detector("haar")
    for i in (5, 15, 25):
        faces = haar.detect(inputs[i])
        assert faces, f"no face in input frame {i}"
        x, y, w, h = max(faces, key=lambda f: f.area).box
        inner = (slice(y + h // 4, y + 3 * h // 4), slice(x + w // 4, x + 3 * w // 4))
        # The face is covered by the emoji: yellow where there was skin, changed from the input...
        assert _emoji_yellow(outputs[i][inner]) > 0.3
        assert _emoji_yellow(inputs[i][inner]) < 0.05
        # ...and far from the face the frame is the input (up to mp4 compression).
        corner = (slice(0, max(8, y // 2)), slice(0, max(8, x // 2)))
        assert np.mean(np.abs(outputs[i][corner].astype(int) - inputs[i][corner])) < 6


def test_run_on_a_clip_without_faces_leaves_frames_alone(tmp_path):
    src = shared_path("media", "videos", "negatives_and_transitions", "no_face.mp4")
    out = tmp_path / "out.mp4"
    r = _cli("run", "--source", str(src), "--output", str(out), "--max-frames", "20", "--detector", "mtcnn")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("20 frames, ") and "; 0 faces found" in r.stdout
    for a, b in zip(_frames(src)[:20], _frames(out)):
        assert np.mean(np.abs(a.astype(int) - b)) < 6


def test_label_option_writes_the_emotion_name(tmp_path):
    src = shared_path("media", "face_boxes", "silver_cc_frames", "1001_DFA_HAP_XX_f040.png")
    plain, labelled = tmp_path / "plain.png", tmp_path / "labelled.png"
    for out, extra in ((plain, []), (labelled, ["--show-label"])):
        r = _cli("run", "--source", str(src), "--output", str(tmp_path / "v.avi"), "--overwrite", *extra)
        assert r.returncode == 0, r.stderr
        cv2.imwrite(str(out), _frames(tmp_path / "v.avi")[0])
    a, b = cv2.imread(str(plain)), cv2.imread(str(labelled))
    from emojicall.detectors import DEFAULT

    x, y, w, h = create_detector(DEFAULT).detect(cv2.imread(str(src)))[0].box  # the box the run drew above
    above = (slice(max(0, y - 40), y), slice(x, x + w))
    # The label is white text on a black box above the face: many black and white pixels appear there.
    changed = np.abs(a[above].astype(int) - b[above]).sum(axis=2) > 100
    assert changed.mean() > 0.1


def test_several_faces_get_several_emojis(tmp_path):
    src = shared_path("media", "face_boxes", "silver_cc_frames", "intel_head-pose-face-detection-female-and-male_f000.png")
    from emojicall.detectors import DEFAULT

    r = _cli("run", "--source", str(src), "--output", str(tmp_path / "v.avi"))  # the default detector
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("1 frames, ") and f"; 2 faces found ({DEFAULT})" in r.stdout


def _run_with_a_broken(name, tmp_path, *args):
    """`emojicall run ARGS` in a process where detector `name` fails to import, as with a broken install (a
    damaged TensorFlow or LiteRT wheel): its module is swapped for one that raises ImportError."""
    package = tmp_path / "site" / "broken"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "detector.py").write_text("raise ImportError('simulated broken install')\n")
    site = package.parent
    code = ("import sys\nfrom emojicall import cli\nfrom emojicall.detectors import register_detector\n"
            f"register_detector({name!r}, 'broken.detector', 'Detector')\n"
            f"sys.exit(cli.main(['run', *{list(map(str, args))!r}]))\n")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])})


def test_the_default_detector_falls_back_to_haar_when_it_cannot_load(tmp_path):
    from emojicall.detectors import DEFAULT

    src = shared_path("media", "videos", "webcam", "pyfeat_single_face_smile.mp4")
    r = _run_with_a_broken(DEFAULT, tmp_path, "--camera", src, "--output", tmp_path / "out.mp4", "--max-frames", "10")
    assert r.returncode == 0, r.stderr
    assert f"detector '{DEFAULT}' cannot start (simulated broken install)" in r.stderr and "using haar" in r.stderr
    assert "Traceback" not in r.stderr
    found = re.search(r"^10 frames, .*; (\d+) faces found \(haar\)", r.stdout)
    assert found and int(found.group(1)) >= 8, r.stdout


def test_an_explicit_detector_that_cannot_load_is_one_line(tmp_path):
    src = shared_path("media", "videos", "webcam", "pyfeat_single_face_smile.mp4")
    r = _run_with_a_broken("mtcnn", tmp_path, "--camera", src, "--output", "none", "--detector", "mtcnn")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "detector 'mtcnn' cannot start" in r.stderr, r.stderr


def test_bundled_pack_has_all_seven_rgba_emojis():
    pack = bundled_pack()
    for label, img in pack.images.items():
        assert img.shape[2] == 4 and img[..., 3].min() == 0 and img[..., 3].max() == 255, label
