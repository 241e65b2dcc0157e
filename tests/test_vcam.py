"""--vcam-backend choice through pyvirtualcam itself: backends registered with pyvirtualcam.register_backend
receive the frames; on Linux the real v4l2loopback backend runs too (and fails, where no loopback device is
loaded, which is what `auto` must get past)."""
import platform
from pathlib import Path

import cv2
import numpy as np
import pytest
import pyvirtualcam
import pyvirtualcam.camera

from conftest import shared_path
from emojicall import vcam
from emojicall.errors import UserError


class UnityCaptureStandIn:
    """Behaves as Unity Capture registered with /i:UnityCaptureName=EmojiCam: only that name opens."""
    names = ("EmojiCam",)
    frames: list = []

    def __init__(self, width, height, fps, fourcc, device, **kw):
        name = device or vcam.UNITY_DEFAULT
        if name not in self.names:
            raise RuntimeError(f"device {name} not found")
        self._device, self.fourcc = name, fourcc
        type(self).frames = []

    def send(self, frame):
        type(self).frames.append(frame.copy())

    def device(self):
        return self._device

    def native_fourcc(self):
        return self.fourcc

    def close(self):
        pass


class OBSNotInstalled(UnityCaptureStandIn):
    names = ()

    def __init__(self, *a, **kw):
        raise RuntimeError("OBS Virtual Camera is not installed in your system.")


@pytest.fixture
def backends():
    saved = dict(pyvirtualcam.camera.BACKENDS)
    yield pyvirtualcam.register_backend
    pyvirtualcam.camera.BACKENDS.clear()
    pyvirtualcam.camera.BACKENDS.update(saved)


def _no_loopback_here():
    if any(Path("/sys/class/video4linux").glob("video*")):
        pytest.skip("a video4linux device is present here, so v4l2loopback may open and win `auto`")


def test_auto_gets_past_a_failing_backend_to_the_one_named_emojicam(backends):
    backends("unitycapture", UnityCaptureStandIn)
    backends("obs", OBSNotInstalled)
    if "v4l2loopback" in pyvirtualcam.camera.BACKENDS:
        _no_loopback_here()
    clip = shared_path("media", "videos", "webcam", "pyfeat_single_face_smile.mp4")
    cap = cv2.VideoCapture(str(clip))
    frames = [cap.read()[1] for _ in range(3)]
    cap.release()
    h, w = frames[0].shape[:2]
    cam, attempt = vcam.open_camera("auto", w, h, 30)
    device, backend = cam.device, cam.backend
    try:
        for f in frames:
            cam.send(f)
    finally:
        cam.close()
    assert (attempt.backend, attempt.device, device, backend) == ("unitycapture", "EmojiCam", "EmojiCam", "unitycapture")
    # pyvirtualcam hands backends each frame flattened (1-D, C order), as its native backends take them
    assert all(np.array_equal(a.reshape(b.shape), b) for a, b in zip(UnityCaptureStandIn.frames, frames))
    assert len(UnityCaptureStandIn.frames) == 3


def test_unity_capture_registered_without_the_name_still_opens(backends, monkeypatch):
    backends("unitycapture", UnityCaptureStandIn)
    monkeypatch.setattr(UnityCaptureStandIn, "names", (vcam.UNITY_DEFAULT,))
    cam, attempt = vcam.open_camera("unitycapture", 64, 48, 30)
    device = cam.device
    cam.close()
    assert device == vcam.UNITY_DEFAULT and attempt.device is None
    assert [a.device for a in vcam.plan("unitycapture")] == ["EmojiCam", None]


def test_every_reason_and_the_fix_in_one_line(backends):
    backends("obs", OBSNotInstalled)
    with pytest.raises(UserError) as err:
        vcam.open_camera("obs", 64, 48, 30)
    text = str(err.value)
    assert "\n" not in text and "obs: OBS Virtual Camera is not installed" in text
    assert vcam.help_line() in text


def test_a_backend_this_platform_lacks_is_refused_by_name(backends):
    pyvirtualcam.camera.BACKENDS.pop("unitycapture", None)
    with pytest.raises(UserError, match="--vcam-backend unitycapture is not available on"):
        vcam.plan("unitycapture")
    with pytest.raises(UserError, match="is not one of auto, v4l2loopback, obs, unitycapture"):
        vcam.plan("directshow")


@pytest.mark.skipif(platform.system() != "Linux", reason="pyvirtualcam registers v4l2loopback on Linux only")
def test_linux_auto_is_v4l2loopback_first_and_describe_says_so(backends):
    backends("obs", OBSNotInstalled)
    assert vcam.plan("auto")[0].backend == "v4l2loopback"
    line = vcam.describe("auto")
    assert line.startswith("virtual camera backend auto: tries v4l2loopback (") and "then obs" in line
    assert vcam.describe("unitycapture").startswith("--vcam-backend unitycapture is not available on Linux")

