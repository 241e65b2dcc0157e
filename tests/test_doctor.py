"""`emojicall doctor` on this machine (no camera, no v4l2loopback, no display) and its checks on real files."""
import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from conftest import ROOT, shared_path
from emojicall import doctor
from emojicall.paths import bundled_emojis
from emojicall.settings import Settings, save


def _doctor(*args):
    env = {k: v for k, v in os.environ.items() if k != "PYSTRAY_BACKEND"}
    return subprocess.run([sys.executable, "-m", "emojicall", "doctor", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_doctor_reports_every_part_and_fails_when_a_needed_one_is_missing(tmp_path):
    cfg = tmp_path / "settings.json"
    save(Settings(model="mlp"), cfg)
    r = _doctor("--config", str(cfg))
    names = [line.split()[1] for line in r.stdout.splitlines()[1:-1] if line[2:6].strip() in ("ok", "FAIL", "warn")]
    assert names == ["camera", "virtual", "model", "emoji", "detector", "detector", "detector", "tray",
                     "preview"], r.stdout
    assert "ok    model" in r.stdout and "ok    emoji pack (bundled)" in r.stdout
    # Each detector started as the app starts it: MTCNN and BlazeFace from their LiteRT files.
    lines = [" ".join(line.split()) for line in r.stdout.splitlines()]
    for line in ("ok detector haar starts", "ok detector mtcnn starts (chosen)", "ok detector blazeface starts"):
        assert line in lines, r.stdout
    linux = sys.platform.startswith("linux")
    if linux and not Path("/sys/module/v4l2loopback").exists():
        assert "FAIL  virtual camera        v4l2loopback is not loaded" in r.stdout
        assert "sudo modprobe v4l2loopback devices=1 video_nr=10 card_label=EmojiCam exclusive_caps=1" in r.stdout
        assert "without exclusive_caps=1" in r.stdout  # the Zoom variant is named too
        assert r.returncode == 1 and "virtual camera" in r.stdout.splitlines()[-1]
    if linux and not list(Path("/dev").glob("video*")):
        assert "FAIL  camera" in r.stdout and "no camera found" in r.stdout and r.returncode == 1
    if linux and not os.environ.get("DISPLAY"):
        assert "FAIL  tray" in r.stdout and "gir1.2-ayatanaappindicator3-0.1" in r.stdout


def test_model_check_names_the_ready_models_when_the_chosen_one_is_missing():
    ok = doctor.check_model("mlp") if (ROOT / "models" / "mlp" / "meta.json").is_file() else None
    if ok is None:
        pytest.skip("needs models/mlp")
    assert ok.ok and "models/mlp" in ok.detail
    bad = doctor.check_model("no_such_model")
    assert not bad.ok and bad.needed and "emojicall train" in bad.fix
    ready = [d.name for d in (ROOT / "models").iterdir() if (d / "meta.json").is_file()]
    assert any(f"--model {name}`" in bad.fix for name in ready) and "mlp" in bad.fix


def test_a_broken_user_pack_is_a_warning_naming_the_file(tmp_path):
    for png in bundled_emojis().glob("*.png"):
        if png.stem != "sad":
            (tmp_path / png.name).write_bytes(png.read_bytes())
    cv2.imwrite(str(tmp_path / "sad.png"), cv2.imread(str(bundled_emojis() / "sad.png")))  # alpha dropped
    bundled, user = doctor.check_packs([str(tmp_path)])
    assert bundled.ok and bundled.needed
    assert not user.ok and not user.needed and user.mark == "warn" and "sad.png" in user.detail


def test_a_video_file_as_camera_is_checked_by_reading_it():
    clip = shared_path("media", "videos", "webcam", "intel_asl_yes.mkv")
    check = doctor.check_cameras(str(clip))
    assert check.ok and "(640x480)" in check.detail
    assert not doctor.check_cameras(str(ROOT / "README.md")).ok


def test_report_lists_fixes_only_for_failures():
    text = doctor.report([doctor.Check("a", True, "fine", "unused"), doctor.Check("b", False, "broken", "do X"),
                          doctor.Check("c", False, "meh", "do Y", needed=False)])
    assert "unused" not in text and "fix: do X" in text and "fix: do Y" in text
    assert text.splitlines()[-1] == "1 needed part(s) missing: b"


def test_the_emojicam_loopback_device_is_never_offered_as_a_camera(tmp_path, monkeypatch):
    from emojicall import cameras

    for node, name in (("video0", "HD Webcam"), ("video1", "HD Webcam"), ("video10", "EmojiCam"), ("media0", "x")):
        (tmp_path / node).mkdir()
        (tmp_path / node / "name").write_text(name + "\n")
    monkeypatch.setattr(cameras, "_V4L", tmp_path)  # the layout of /sys/class/video4linux
    assert cameras._linux_candidates() == [(0, "HD Webcam"), (1, "HD Webcam")]
