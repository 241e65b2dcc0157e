"""Sinks through the real libraries: pyvirtualcam.Camera with a registered test backend, and cv2 video files."""
import signal
import subprocess
import sys

import cv2
import numpy as np
import pytest
import pyvirtualcam

from conftest import ROOT, shared_path
from emojicall import cli
from emojicall.sinks import FileSink
from emojicall.vcam import VirtualCamSink


class CaptureBackend:
    """A pyvirtualcam backend that keeps what pyvirtualcam.Camera hands it."""
    instances = []

    def __init__(self, *, width, height, fps, fourcc, device, **kw):
        self.width, self.height, self.fps, self.fourcc = width, height, fps, fourcc
        self.frames, self.closed = [], False
        CaptureBackend.instances.append(self)

    def send(self, frame):
        self.frames.append(frame.copy())

    def close(self):
        self.closed = True

    def device(self):
        return "EmojiCam-test"

    def native_fourcc(self):
        return self.fourcc


@pytest.fixture
def capture_backend(monkeypatch):
    # Only the platform's own backends plus ours: other test modules register recorders of their own.
    native = {k: v for k, v in pyvirtualcam.camera.BACKENDS.items() if not k.startswith("emojicall")}
    monkeypatch.setattr(pyvirtualcam.camera, "BACKENDS", native)
    pyvirtualcam.register_backend("emojicall-sinks-test", CaptureBackend)
    CaptureBackend.instances.clear()
    yield CaptureBackend


def test_run_to_virtual_camera_sends_every_processed_frame_as_bgr(capture_backend, tmp_path):
    clip = shared_path("media", "videos", "webcam", "intel_asl_yes.mkv")
    previous = signal.getsignal(signal.SIGTERM)
    try:
        # backend=None in the app: pyvirtualcam tries v4l2loopback (absent here), then the registered test backend.
        rc = cli.main(["run", "--source", str(clip), "--output", "virtual", "--max-frames", "12"])
        assert rc == 0
        rc = cli.main(["run", "--source", str(clip), "--output", str(tmp_path / "same.avi"), "--max-frames", "12"])
        assert rc == 0
    finally:
        signal.signal(signal.SIGTERM, previous)
    cam = capture_backend.instances[-1]
    assert cam.closed and (cam.width, cam.height) == (640, 480) and cam.fps == pytest.approx(30.0)
    assert cam.fourcc == pyvirtualcam.util.encode_fourcc(pyvirtualcam.PixelFormat.BGR.value)
    assert len(cam.frames) == 12
    sent = [f.reshape(480, 640, 3) for f in cam.frames]
    # The same run written to a lossless-ish file matches what the camera got: BGR, no extra conversion.
    cap = cv2.VideoCapture(str(tmp_path / "same.avi"))
    for frame in sent:
        ok, written = cap.read()
        assert ok and np.mean(np.abs(written.astype(int) - frame)) < 8
    raw = cv2.VideoCapture(str(clip)).read()[1]
    corner = (slice(0, 60), slice(0, 60))
    assert np.mean(np.abs(sent[0][corner].astype(int) - raw[corner])) < 2  # not RGB-swapped, not mirrored


def test_virtual_sink_letterboxes_frames_of_another_size(capture_backend):
    """A 16:9 camera frame into a 4:3 virtual camera: scaled whole, black bars above and below, never stretched."""
    sink = VirtualCamSink((320, 240), 30, choice="emojicall-sinks-test")
    image = cv2.VideoCapture(str(shared_path("media", "videos", "bench_720p_closeup.mp4"))).read()[1]
    assert image.shape[:2] == (720, 1280)
    sink.send(image)
    sink.close()
    sent = capture_backend.instances[-1].frames[0].reshape(240, 320, 3)
    bar = (240 - 180) // 2  # 1280x720 scaled to 320x180
    assert not sent[:bar].any() and not sent[-bar:].any()
    picture = sent[bar:bar + 180]
    expected = cv2.resize(image, (320, 180), interpolation=cv2.INTER_AREA)
    assert np.mean(np.abs(picture.astype(int) - expected)) < 2  # the whole picture, BGR, unstretched


def test_without_a_virtual_camera_run_says_how_to_get_one():
    clip = shared_path("media", "videos", "webcam", "intel_asl_yes.mkv")
    r = subprocess.run([sys.executable, "-m", "emojicall", "run", "--source", str(clip), "--output", "virtual",
                        "--max-frames", "2"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    lines = [line for line in r.stderr.splitlines() if line.startswith("emojicall:")]
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert "v4l2loopback" in lines[0] and "card_label=EmojiCam" in lines[0] and "exclusive_caps=1" in lines[0]


def test_file_sink_refuses_an_unwritable_path(tmp_path):
    from emojicall.errors import UserError

    (tmp_path / "a_file").write_text("a file where a folder should be")
    with pytest.raises(UserError, match="cannot write"):
        FileSink(tmp_path / "a_file" / "x.mp4", (64, 48), 30)
