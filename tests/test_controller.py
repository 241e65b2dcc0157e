"""The tray's Controller on a real clip as the camera, with a pyvirtualcam backend registered to receive the
frames the virtual camera would get: overlay, mirror, detector switch, pause, missing camera, quit."""
import sys
import threading
import time

import cv2
import numpy as np
import pytest
import pyvirtualcam

from conftest import ROOT, shared_path
from emojicall import cards
from emojicall.keeper import open_for_tray
from emojicall.cards import NO_CAMERA as NO_CAMERA_TEXT, PAUSED as PAUSED_TEXT
from emojicall.controller import Controller
from emojicall.frames import fit
from emojicall.detectors import create_detector
from emojicall.errors import UserError
from emojicall.settings import Settings
from emojicall.vcam import VirtualCamSink

CLIP = ("media", "videos", "webcam", "pyfeat_single_face_smile.mp4")  # 640x360, one face in all 72 frames


class RecordingCam:
    """A pyvirtualcam backend keeping what it is sent, as the v4l2loopback or OBS backends would receive it."""

    def __init__(self, *, width, height, fps, fourcc, device, **kw):
        self.width, self.height, self.fourcc = width, height, fourcc
        self.frames, self.closed = [], False

    def send(self, frame):
        self.frames.append(frame.reshape(self.height, self.width, 3).copy())

    def close(self):
        self.closed = True

    def device(self):
        return "/dev/video-recording"

    def native_fourcc(self):
        return None


class RefusingCam(RecordingCam):
    """What pyvirtualcam's v4l2loopback backend does on a machine without the module loaded."""

    def __init__(self, **kw):
        raise RuntimeError("No v4l2 loopback device found at /dev/video[0-99]")


pyvirtualcam.register_backend("emojicall-test", RecordingCam)
pyvirtualcam.register_backend("emojicall-refuse", RefusingCam)


class Recorder:
    """Factories for a Controller that keep hold of the real sources and virtual camera it opens."""

    def __init__(self):
        self.sources, self.reads, self.cams = [], [], []

    def source(self, spec, width, height):
        src = open_for_tray(spec, width, height)
        self.sources.append(src)
        read = src.read

        def recorded():
            frame = read()
            if frame is not None:  # a copy: the stream may draw on a file's frame in place (Frame.own)
                self.reads.append(frame.copy())
            return frame
        src.read = recorded
        return src

    def sink(self, size, fps):
        sink = VirtualCamSink(size, fps, choice="emojicall-test")
        self.cams.append(sink.cam._backend)
        return sink

    @property
    def sent(self):
        return self.cams[0].frames


def is_open(source) -> bool:
    """Whether the clip's capture (inside the real-time player the tray wraps a file in) is still open."""
    return getattr(source, "_src", source)._cap.isOpened()


def model_name():
    """The shipped default model: the tests run what users run."""
    from emojicall.model_files import DEFAULT_MODEL

    assert (ROOT / "models" / DEFAULT_MODEL / "model.tflite").is_file(), "the default model is not committed"
    return DEFAULT_MODEL


def wait_until(cond, what, timeout=120.0):
    """Polls; the timeout only guards against a hang on a loaded machine, it is not a speed claim."""
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


def frames_after(rec, n_more):
    """Frames sent from now on, once `n_more` of them arrived (the first one may predate a change)."""
    start = len(rec.sent) + 1
    wait_until(lambda: len(rec.sent) >= start + n_more, f"{n_more} more frames")
    return rec.sent[start:start + n_more]


def start(tmp_settings=None, **kw):
    kw.setdefault("detector", "haar")  # no TensorFlow load per test; the MTCNN tests ask for it
    clip = shared_path(*CLIP)
    rec = Recorder()
    settings = Settings(camera=str(clip), width=640, height=360, model=model_name(), fps=30, **kw)
    ctl = Controller(settings, source_factory=rec.source, sink_factory=rec.sink)
    ctl.start()
    wait_until(lambda: ctl.detector_name is not None and len(rec.cams) and len(rec.sent) > 2, "the first frames")
    return ctl, rec


def clip_frames():
    cap = cv2.VideoCapture(str(shared_path(*CLIP)))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            return frames
        frames.append(f)


def emoji_yellow(patch):
    """Share of pixels in the Noto emoji face's yellow (saturated, bright, hue 18-35 in OpenCV units)."""
    hsv = cv2.cvtColor(patch, cv2.COLOR_BGR2HSV)
    return float(np.mean((hsv[..., 0] >= 18) & (hsv[..., 0] <= 35) & (hsv[..., 1] > 150) & (hsv[..., 2] > 150)))


def inner_face(frame):
    faces = create_detector("haar").detect(frame)
    assert faces, "no face in the clip frame"
    x, y, w, h = max(faces, key=lambda f: f.area).box
    return slice(y + h // 4, y + 3 * h // 4), slice(x + w // 4, x + 3 * w // 4)


@pytest.fixture
def running():
    ctl, rec = start()
    yield ctl, rec
    ctl.stop()


def test_overlay_on_covers_the_face_off_sends_the_plain_frame_and_mirror_flips_it(running):
    ctl, rec = running
    frames_after(rec, 6)  # past the emoji's fade-in (0.1 s)
    # Frame i sent is frame i read while nothing but frames went out (no card yet): pair them up.
    n = len(rec.sent)
    wait_until(lambda: len(rec.sent) >= n + 6, "frames with the overlay")
    for i in range(n, n + 6, 2):
        face = inner_face(rec.reads[i])
        assert emoji_yellow(rec.sent[i][face]) > 0.3 and emoji_yellow(rec.reads[i][face]) < 0.05
    assert ctl.main_label is not None

    plain = {f.tobytes() for f in clip_frames()}
    ctl.set_overlay(False)
    outs = frames_after(rec, 8)  # bit-exact camera frames: nothing drawn, nothing resized
    assert sum(out.tobytes() in plain for out in outs) == len(outs)

    flipped = {cv2.flip(f, 1).tobytes() for f in clip_frames()}
    ctl.set_mirror(True)
    outs = frames_after(rec, 8)
    assert sum(out.tobytes() in flipped and out.tobytes() not in plain for out in outs) == len(outs)
    # No change reopened the camera (only the clip's end does, to loop it) or the virtual camera.
    assert len(rec.sources) <= 1 + len(rec.reads) // 72 and len(rec.cams) == 1


@pytest.mark.slow
def test_switching_the_detector_applies_to_the_following_frames_without_stalling(running):
    ctl, rec = running
    wait_until(lambda: ctl.faces, "a face")
    assert ctl.pipeline.detector.name == "haar" and not any(f.landmarks for f in ctl.faces)

    sent_while_loading = threading.Event()

    def slow(name):  # a load that lasts until 20 frames went out meanwhile: the stream must not wait for it
        start = len(rec.sent)
        wait_until(lambda: len(rec.sent) >= start + 20, "20 frames while the detector loads")
        sent_while_loading.set()
        return create_detector(name)
    ctl._detector_factory = slow
    ctl.set_detector("mtcnn")
    wait_until(lambda: ctl.detector_name == "mtcnn", "MTCNN to load", timeout=300)
    assert sent_while_loading.is_set()
    assert ctl.pipeline.detector.name == "mtcnn"
    n = ctl.frames
    wait_until(lambda: ctl.frames >= n + 3 and ctl.faces, "MTCNN faces")
    # MTCNN gives the five landmarks, Haar none: the faces now come from the new detector.
    assert {"left_eye", "right_eye", "nose"} <= set(ctl.faces[0].landmarks)
    i = len(rec.sent) - 1
    face = inner_face(rec.reads[i])
    assert emoji_yellow(rec.sent[i][face]) > 0.3


def test_pause_releases_the_camera_and_sends_the_paused_card_then_resume_reopens_it(running):
    ctl, rec = running
    ctl.set_overlay(False)
    ctl.pause()
    paused = cards.card(PAUSED_TEXT, (640, 360))
    assert sum(np.array_equal(out, paused) for out in frames_after(rec, 5)) == 5
    opened = len(rec.sources)
    assert ctl.source is None and not is_open(rec.sources[-1])  # the camera light goes off
    ctl.resume()
    plain = {f.tobytes() for f in clip_frames()}
    wait_until(lambda: len(rec.sources) == opened + 1, "the camera to reopen")
    assert sum(out.tobytes() in plain for out in frames_after(rec, 6)) >= 5
    assert len(rec.cams) == 1 and not rec.cams[0].closed  # the virtual camera stayed open throughout


def test_quit_releases_the_camera_the_virtual_camera_and_the_threads(running):
    ctl, rec = running
    ctl.set_preview(False)
    assert ctl.stop(timeout=2.0)
    assert not ctl.running and rec.cams[0].closed
    assert all(not is_open(s) for s in rec.sources)
    assert not [t for t in threading.enumerate() if t.name == "emojicam"]


def test_a_missing_camera_sends_a_card_and_says_how_to_fix_it():
    rec = Recorder()
    ctl = Controller(Settings(camera="9", width=640, height=360, model=model_name()), source_factory=rec.source,
                     sink_factory=rec.sink)
    ctl.start()
    try:
        wait_until(lambda: len(rec.cams) and len(rec.sent) >= 3, "frames without a camera")
        card = cards.card(NO_CAMERA_TEXT, (640, 360))
        assert all(np.array_equal(f, card) for f in rec.sent[:3])
        what, fix = ctl.problems["camera"]
        assert what == "camera 9 gives no picture" and fix.startswith("plug in a webcam")
        ctl.set_camera(str(shared_path(*CLIP)))  # picking a working camera from the menu recovers
        wait_until(lambda: "camera" not in ctl.problems and ctl.faces, "the new camera")
    finally:
        assert ctl.stop()


def test_without_a_virtual_camera_backend_it_keeps_running_and_reports_the_fix():
    clip = shared_path(*CLIP)
    ctl = Controller(Settings(camera=str(clip), width=640, height=360, model=model_name()),
                     sink_factory=lambda size, fps: VirtualCamSink(size, fps, choice="emojicall-refuse"))
    ctl.start()
    try:
        wait_until(lambda: ctl.frames > 5, "frames")
        problem = ctl.problems["virtual camera"]
        if sys.platform.startswith("linux"):  # worded as `emojicall doctor` words it, with the modprobe line
            assert "v4l2loopback" in problem.what and "sudo modprobe v4l2loopback" in problem.fix
        else:
            assert "OBS" in problem.fix
        assert ctl.device is None and ctl.running
    finally:
        assert ctl.stop()


def test_preview_without_a_display_is_reported_not_fatal(running, monkeypatch):
    if not __import__("platform").system() == "Linux":
        pytest.skip("the display check is the Linux one")
    monkeypatch.delenv("DISPLAY", raising=False)
    ctl, rec = running
    ctl.set_preview(True)
    frames_after(rec, 3)
    assert not ctl.preview and "DISPLAY is not set" in ctl.problems["preview"].what
    assert ctl.running


def test_fit_keeps_the_aspect_ratio_with_black_bars():
    frame = clip_frames()[10]  # 640x360 (16:9) into 4:3
    out = fit(frame, (640, 480))
    assert out.shape == (480, 640, 3)
    assert not out[:60].any() and not out[-60:].any()
    assert np.array_equal(out[60:420], frame)


@pytest.mark.slow
def test_the_default_detector_falls_back_to_haar_when_it_cannot_start():
    from emojicall.detectors import DEFAULT

    def factory(name):
        if name == DEFAULT:  # as create_detector says it when the default's runtime or model is broken
            raise UserError(f"detector '{DEFAULT}' cannot start (simulated broken install)", "reinstall EmojiCall")
        return create_detector(name)

    rec = Recorder()
    ctl = Controller(Settings(camera=str(shared_path(*CLIP)), width=640, height=360, model=model_name()),
                     source_factory=rec.source, sink_factory=rec.sink, detector_factory=factory)
    assert ctl.settings.detector == DEFAULT
    ctl.start()
    try:
        wait_until(lambda: ctl.detector_name == "haar" and ctl.faces, "Haar in MTCNN's place")
        assert ctl.settings.detector == "haar"  # the menu's radio shows the detector that runs
        n = len(rec.sent)
        wait_until(lambda: len(rec.sent) >= n + 3, "frames with Haar")
        i = len(rec.sent) - 1
        assert emoji_yellow(rec.sent[i][inner_face(rec.reads[i])]) > 0.3
    finally:
        assert ctl.stop()


def test_a_model_that_fails_to_load_with_any_error_is_reported_and_the_stream_goes_on():
    """Before: anything but UserError from the model load ended the loader thread silently."""
    def broken(settings):
        raise RuntimeError("flatbuffer verification failed")  # what a damaged .tflite gives LiteRT

    rec = Recorder()
    ctl = Controller(Settings(camera=str(shared_path(*CLIP)), width=640, height=360, detector="haar"),
                     source_factory=rec.source, sink_factory=rec.sink, classifier_factory=broken)
    ctl.start()
    try:
        wait_until(lambda: "model" in ctl.problems and len(rec.sent) > 5, "the model problem")
        what, fix = ctl.problems["model"]
        assert "flatbuffer verification failed" in what and "without emoji" in what and fix
        plain = {f.tobytes() for f in clip_frames()}
        assert sum(out.tobytes() in plain for out in frames_after(rec, 5)) == 5  # the camera picture goes out
        assert ctl.running
    finally:
        assert ctl.stop()


def test_stopping_while_the_model_loads_waits_for_the_loader_so_exit_cannot_abort():
    """Before: stop() returned with the loader thread still inside LiteRT or OpenCV, and a process exiting then
    aborted ("terminate called without an active exception": 4 of 16 tray starts without a D-Bus session)."""
    from emojicall import build

    loading = threading.Event()

    def slow_start(settings):  # the real load, after a cold-disk pause
        loading.set()
        time.sleep(0.5)
        return build.load_classifier(settings)

    rec = Recorder()
    ctl = Controller(Settings(camera=str(shared_path(*CLIP)), width=640, height=360, detector="haar",
                              model=model_name()),
                     source_factory=rec.source, sink_factory=rec.sink, classifier_factory=slow_start)
    ctl.start()
    assert loading.wait(30)
    assert ctl.stop(timeout=10.0)
    assert not [t for t in threading.enumerate() if t.name.startswith("load-") and t.is_alive()]
