"""Clean shutdown: SIGTERM or Ctrl-C (SIGINT) in the middle of `emojicall run` finishes the output file so that
it plays, releases the camera and closes the virtual camera, and exits 0."""
import os
import signal
import subprocess
import sys
import time

import cv2
import pytest

from conftest import ROOT, shared_path
from faulty import clip_frames, model_dir

# A camera (a real clip played like a webcam) and a virtual camera backend that report on stdout.
DRIVER = r"""
import sys
import pyvirtualcam
from emojicall import cli, sources
from faulty import FakeCamera, clip_frames

class Cam(FakeCamera):
    def close(self):
        super().close()
        print("camera released", flush=True)

class Backend:
    def __init__(self, *, width, height, fps, fourcc, device, **kw):
        self.sent = 0
    def send(self, frame):
        self.sent += 1
        if self.sent == 5:
            print("frames are flowing", flush=True)
    def close(self):
        print(f"virtual camera closed after {self.sent} frames", flush=True)
    def device(self):
        return "EmojiCam-test"
    def native_fourcc(self):
        return None

pyvirtualcam.register_backend("test", Backend)
frames = clip_frames(sys.argv[1])
sources.open_source = lambda spec, w=None, h=None: Cam(frames, fps=30)
sys.exit(cli.main(["run", "--source", "0", "--output", "virtual", "--model", sys.argv[2]]))
"""


def _env():
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}


def _wait_for(pred, proc, limit=120.0):
    end = time.monotonic() + limit
    while not pred():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, "the run never got going"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    """A real clip looped to 600 frames, so a signal always lands mid-run."""
    frames = clip_frames(shared_path("media", "videos", "webcam", "pyfeat_single_face_smile.mp4"))
    path = tmp_path_factory.mktemp("clips") / "smile_x8.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (640, 360))
    for i in range(600):
        writer.write(frames[i % len(frames)])
    writer.release()
    return path


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_run_finishes_a_playable_mp4(sig, long_clip, tmp_path):
    out = tmp_path / "out.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "emojicall", "run", "--source", str(long_clip), "--output",
                             str(out), "--model", str(model_dir())], cwd=tmp_path, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: out.exists() and out.stat().st_size > 100_000, proc)  # a few frames are on disk
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    processed = int(stdout.split(" frames, ")[0].split()[-1])
    assert 0 < processed < 600, "stopped by the signal, not by the end of the clip"
    written = clip_frames(out)  # an mp4 whose writer was not released has no index and does not open
    assert len(written) == processed and written[0].shape == (360, 640, 3)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_releases_the_camera_and_closes_the_virtual_camera(sig, tmp_path):
    clip = shared_path("media", "videos", "webcam", "pyfeat_single_face_smile.mp4")
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(clip), str(model_dir())], cwd=tmp_path,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "frames are flowing"
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    lines = stdout.splitlines()
    assert "camera released" in lines
    closed = [line for line in lines if line.startswith("virtual camera closed after")]
    assert len(closed) == 1 and int(closed[0].split()[4]) >= 5
