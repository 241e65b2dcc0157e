"""`emojicall run --realtime`: a video file played as a live camera would give it: at its own rate, frames not
taken in time dropped and counted, and the closing summary says frames, dropped frames, fps and CPU use."""
import re
import subprocess
import sys
import time

import cv2
import pytest

from conftest import ROOT, shared_path
from emojicall import build
from emojicall.settings import Settings
from emojicall.stream import Stream

FRAMES, FPS = 72, 24.0


@pytest.fixture(scope="module")
def clip24(tmp_path_factory):
    """The pyfeat webcam clip's 72 real frames, re-encoded at 24 fps: 3 seconds."""
    src = cv2.VideoCapture(str(shared_path("media", "videos", "webcam", "pyfeat_single_face_smile.mp4")))
    path = tmp_path_factory.mktemp("clip") / "smile24.avi"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (640, 360))
    while (frame := src.read()[1]) is not None:
        out.write(frame)
    out.release()
    return path


def play(clip, slow_s=0.0):
    source = build.source(str(clip), realtime=True)
    stream = Stream(source=source, pipeline=build.pipeline(Settings(detector="haar")))
    if slow_s:
        stream.add_listener(lambda out, faces: time.sleep(slow_s))  # a chain made slow on purpose
    try:
        return stream.run()
    finally:
        stream.close()
        source.close()


def test_a_24_fps_clip_takes_its_length_in_wall_time(clip24):
    stats = play(clip24)
    # The clock sets the pace: a busy machine drops frames rather than taking longer.
    assert stats.frames + stats.dropped == FRAMES
    assert stats.seconds == pytest.approx((FRAMES - 1) / FPS, rel=0.05)


def test_a_slow_chain_drops_frames_and_the_summary_counts_them(clip24):
    stats = play(clip24, slow_s=3 / FPS)  # each frame takes three frame intervals: two of three are dropped
    assert stats.frames + stats.dropped == FRAMES and stats.dropped >= FRAMES // 2
    assert f"{stats.frames} frames, {stats.dropped} dropped," in stats.summary()


def test_run_realtime_prints_frames_dropped_fps_and_cpu(clip24):
    r = subprocess.run([sys.executable, "-m", "emojicall", "run", "--camera", str(clip24), "--output", "none",
                        "--realtime", "--detector", "haar"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    m = re.fullmatch(r"(\d+) frames, (\d+) dropped, ([\d.]+) fps mean, CPU (\d+)% of one core; \d+ faces found "
                     r"\(haar\)", r.stdout.strip())
    assert m, r.stdout
    frames, dropped, fps, cpu = int(m[1]), int(m[2]), float(m[3]), int(m[4])
    assert frames + dropped == FRAMES and fps <= FPS * 1.05 and 0 < cpu < 200
