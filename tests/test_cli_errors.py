"""Bad input from the command line: one line naming the input and what to do, exit code 2, no traceback."""
import subprocess
import sys

import pytest

from conftest import ROOT, shared_path


def _err(*args):
    r = subprocess.run([sys.executable, "-m", "emojicall", *args], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    lines = [line for line in r.stderr.splitlines() if line.strip() and not line.startswith("INFO:")]
    return r.returncode, lines, r.stderr


@pytest.mark.parametrize("args, expected", [
    (["run", "--source", "no/such/clip.mp4", "--output", "none"], "video not found: no/such/clip.mp4"),
    (["run", "--source", "no/such/photo.png", "--output", "none"], "image not found: no/such/photo.png"),
    (["run", "--source", "demo", "--detector", "yolo", "--output", "none"], "unknown detector 'yolo'"),
    (["run", "--source", "demo", "--style", "sparkles", "--output", "none"], "unknown style 'sparkles'"),
    (["run", "--source", "demo", "--model", "no_such_model", "--output", "none"], "model not found: no_such_model"),
    (["run", "--source", "demo", "--emoji-dir", "no/such/pack", "--output", "none"], "emoji folder not found"),
    (["run", "--source", "demo", "--output", "window"], "cannot open a preview window: no display"),
    (["run", "--camera", "demo", "--vcam-backend", "unity", "--output", "virtual"],
     "unknown virtual camera backend 'unity'"),
    (["run", "--camera", "demo", "--detect-every", "0", "--output", "none"], "fix the --detect-every flag"),
    (["evaluate", "--split", "validation"], "unknown split 'validation'"),
    (["evaluate", "--data", "no/such/fer2013.csv"], "data not found: no/such/fer2013.csv"),
    (["train", "--arch", "transformer", "--out", "/tmp/never"], "unknown architecture 'transformer'"),
    (["train", "--arch", "cnn", "--out", "/tmp/never", "--val-fraction", "0.7"], "--val-fraction 0.7: use 0"),
    (["train", "--arch", "cnn", "--out", "/tmp/never", "--init", "no/such/model.keras"],
     "--init no/such/model.keras: no such model file"),
])
def test_one_clear_line_and_exit_2(args, expected):
    if args[0] in ("evaluate", "train"):
        shared_path("data", "fer2013", "fer2013.npz")
    rc, lines, stderr = _err(*args)
    assert rc == 2, stderr
    assert "Traceback" not in stderr
    assert len(lines) == 1 and lines[0].startswith("emojicall: ") and expected in lines[0], lines


def test_unreadable_video_is_named(tmp_path):
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    rc, lines, stderr = _err("run", "--source", str(bad), "--output", "none")
    assert rc == 2 and "Traceback" not in stderr
    assert len(lines) == 1 and str(bad) in lines[0] and "re-encode" in lines[0]
