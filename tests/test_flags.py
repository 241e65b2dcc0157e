"""`run` and `tray` read the same flags the same way (flags.py) and turn them into Settings in one place."""
import subprocess
import sys

import cv2
import numpy as np

from conftest import ROOT, shared_path
from emojicall import build
from emojicall.flags import settings_from
from emojicall.settings import Settings
from emojicall.sinks import Sink
from emojicall.sources import open_source
from emojicall.stream import Stream
from emojicall.tray.app import configure, parse_args


def _help(*cmd):
    r = subprocess.run([sys.executable, "-m", "emojicall", *cmd, "--help"], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return " ".join(r.stdout.split())


def test_run_and_tray_offer_the_same_stream_flags_with_the_same_help():
    run, tray = _help("run"), _help("tray")
    for flag in ("--detector DETECTOR haar | mtcnn | blazeface", "--style STYLE emoji | badge | label",
                 "--mirror, --no-mirror", "--overlay, --no-overlay", "--detect-every",
                 "--vcam-backend VCAM_BACKEND auto | v4l2loopback | obs | unitycapture"):
        assert flag in run and flag in tray, flag
    start, end = "--camera CAMERA, --source CAMERA", "--fps FPS"
    assert run[run.index(start):run.index(end)] == tray[tray.index(start):tray.index(end)]


def test_flags_override_the_saved_settings_and_a_bad_value_names_its_flag(tmp_path):
    from emojicall import settings as st

    path = tmp_path / "settings.json"
    st.save(Settings(style="badge", detect_every=7), path)
    cfg, _ = configure(parse_args(["--config", str(path), "--detector", "blazeface", "--no-mirror"]))
    assert (cfg.style, cfg.detect_every, cfg.detector, cfg.mirror) == ("badge", 7, "blazeface", False)
    r = subprocess.run([sys.executable, "-m", "emojicall", "run", "--camera", "demo", "--output", "none",
                        "--detect-every", "0"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.strip().endswith("fix the --detect-every flag"), r.stderr


class Keep(Sink):
    def __init__(self):
        self.frames = []

    def send(self, frame):
        self.frames.append(frame)
        return True


def test_mirroring_happens_once_with_or_without_a_pipeline():
    """Stream mirrors before the pipeline: the plain picture (models still loading) and the decorated one agree."""
    clip = shared_path("media", "videos", "webcam", "pyfeat_single_face_smile.mp4")
    raw = open_source(clip).read()
    settings = settings_from(parse_args(["--mirror", "--no-overlay"]), Settings())
    plain, piped = Keep(), Keep()
    for sink, pipeline in ((plain, None), (piped, build.pipeline(settings, detector_fallback=False))):
        source = open_source(clip)
        stream = Stream(sink, source=source, pipeline=pipeline, mirror=settings.mirror)
        stream.run(max_frames=1)
        stream.close()
        source.close()
    assert np.array_equal(plain.frames[0], cv2.flip(raw, 1)) and np.array_equal(piped.frames[0], plain.frames[0])
