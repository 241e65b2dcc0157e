"""ResilientSource around a real clip played like a webcam, with injected faults: failed reads, a camera
that disappears (reads return nothing or raise), stays unplugged for a while, and comes back at another size."""
import threading
import time

import cv2
import numpy as np
import pytest

from conftest import shared_path
from emojicall.frames import CAMERA
from emojicall.cards import BACKGROUND, card
from emojicall.errors import UserError
from emojicall.cards import LOST as LOST_TEXT
from emojicall.resilient import ResilientSource
from faulty import CameraRig, FakeCamera, clip_frames


@pytest.fixture(scope="module")
def frames():
    return clip_frames(shared_path("media", "videos", "webcam", "pyfeat_single_face_smile.mp4"))  # 640x360


def _kinds(outs, frames, back_size=(320, 240)):
    """Each output as the index of the clip frame it is exactly, 'card', or ('near', index) for a frame that
    came back at `back_size` and was letterboxed into the stream's size (the one resize policy, frames.fit):
    nearest clip frame by mean absolute difference."""
    from emojicall.frames import fit

    size = (frames[0].shape[1], frames[0].shape[0])
    exact = {f.tobytes(): i for i, f in enumerate(frames)}
    lost = card(LOST_TEXT, size)
    small = [cv2.resize(fit(cv2.resize(f, back_size, interpolation=cv2.INTER_AREA), size), (160, 90),
                        interpolation=cv2.INTER_AREA).astype(np.int16) for f in frames]
    kinds = []
    for out in outs:
        if out.tobytes() in exact:
            kinds.append(exact[out.tobytes()])
        elif np.array_equal(out, lost):
            kinds.append("card")
        else:
            o = cv2.resize(out, (160, 90), interpolation=cv2.INTER_AREA).astype(np.int16)
            mads = [np.mean(np.abs(o - s)) for s in small]
            kinds.append(("near", int(np.argmin(mads)), float(min(mads))))
    return kinds


def _read_until(src, done, limit=3000, seconds=60.0):
    """Reads until done(outs); fails if that never happens (a reader that stopped retrying must not pass)."""
    outs, end = [], time.monotonic() + seconds
    while not done(outs):
        if len(outs) >= limit or time.monotonic() > end:
            pytest.fail(f"gave up after {len(outs)} reads in {seconds:.0f} s")
        outs.append(src.read())
    return outs


def test_a_few_failed_reads_repeat_the_last_frame_and_the_stream_goes_on(frames):
    rig = CameraRig([lambda: FakeCamera(frames, fail_reads={10, 11, 30})])
    src = ResilientSource(rig.open, grace=30, retry_reads=3)
    try:
        outs = _read_until(src, lambda o: src.seq >= 36)  # seq: how many camera frames have come through
    finally:
        src.close()
    assert all(o is not None and o.shape == (360, 640, 3) for o in outs)
    kinds = _kinds(outs, frames)
    assert all(isinstance(k, int) for k in kinds), "only real camera frames, no card, within the grace time"
    assert kinds == sorted(kinds), "frames never go back in time"
    assert not {10, 11, 30} & set(kinds) and kinds[-1] >= 33
    assert src.failed_reads == 3 and src.reconnects == 0 and rig.attempts == 1


@pytest.mark.parametrize("gone", ["returns nothing", "raises"])
def test_unplugged_camera_gives_last_frame_then_card_and_resumes_at_the_stream_size(frames, gone):
    rig = CameraRig([lambda: FakeCamera(frames, disconnect_at=20, raise_when_gone=gone == "raises"),
                     None, None, None,  # unplugged: three open attempts fail
                     lambda: FakeCamera(frames, size=(320, 240))])  # back, at another resolution
    src = ResilientSource(rig.open, grace=0.3, retry_reads=2, backoff=(0.1, 0.4))  # away ~0.7 s
    try:
        outs = _read_until(src, lambda o: src.seq >= 20 + 15)  # 15 frames from the camera that came back
    finally:
        src.close()
    assert all(o is not None and o.shape == (360, 640, 3) and o.dtype == np.uint8 for o in outs)
    kinds = _kinds(outs, frames)
    phases = []
    for k in kinds:
        phase = "live" if isinstance(k, int) else "card" if k == "card" else "back"
        if not phases or phases[-1] != phase:
            phases.append(phase)
    assert phases == ["live", "card", "back"], phases
    live = [k for k in kinds if isinstance(k, int)]
    assert live == sorted(live) and live[-1] == 19, "the last good frame is held until the card"
    assert live.count(19) >= 2, "the last good frame repeats during the grace time"
    resumed = [k for k in kinds if isinstance(k, tuple)]
    assert all(mad < 10 for _, _, mad in resumed), "after reconnecting: the clip again, letterboxed into 640x360"
    order = [i for _, i, _ in resumed]
    assert order == sorted(order) and len(set(order)) >= 5
    assert rig.attempts == 5 and src.reconnects == 1
    assert all(cam.closed for cam in rig.opened)


def test_reconnect_attempts_back_off_exponentially(frames):
    stamps = []
    rig = CameraRig([lambda: FakeCamera(frames, disconnect_at=3), None])  # gone for good after 3 frames

    def open_fn():
        stamps.append(time.monotonic())
        return rig.open()

    src = ResilientSource(open_fn, grace=0.1, retry_reads=0, backoff=(0.05, 0.4))
    try:
        outs = _read_until(src, lambda o: len(stamps) >= 7, limit=10_000)
        assert src.lost and np.array_equal(src.read(), card(LOST_TEXT, (640, 360)))
    finally:
        src.close()
    assert all(o is not None and o.shape == (360, 640, 3) for o in outs)
    gaps = np.diff(stamps[1:])  # stamps[0] is the first open, before the camera went away
    expected = [min(0.05 * 2 ** i, 0.4) for i in range(len(gaps))]
    assert len(gaps) >= 5
    # A busy machine makes the waits longer, never shorter; the upper bound says the retries keep coming
    # (capped at backoff[1], not stretched), with a wide margin for a loaded machine.
    assert all(g >= 0.9 * e for g, e in zip(gaps, expected)), (gaps, expected)
    assert all(g <= e + 1.5 for g, e in zip(gaps, expected)), (gaps, expected)


def test_a_camera_that_opens_but_sends_nothing_is_not_reopened_in_a_tight_loop(frames):
    stamps = []
    rig = CameraRig([lambda: FakeCamera(frames, disconnect_at=2), lambda: FakeCamera(frames, disconnect_at=0)])

    def open_fn():
        stamps.append(time.monotonic())
        return rig.open()

    src = ResilientSource(open_fn, grace=0.1, retry_reads=1, backoff=(0.05, 0.4))
    try:
        _read_until(src, lambda o: len(stamps) >= 6, limit=10_000)
    finally:
        src.close()
    gaps = np.diff(stamps[1:])
    assert len(gaps) >= 4 and rig.attempts == len(stamps)
    assert all(g >= 0.9 * min(0.05 * 2 ** i, 0.4) for i, g in enumerate(gaps)), gaps
    assert all(g <= min(0.05 * 2 ** i, 0.4) + 1.5 for i, g in enumerate(gaps)), gaps
    assert all(cam.closed for cam in rig.opened)


def test_close_releases_the_camera_and_stops_the_thread_even_while_waiting_to_reconnect(frames):
    before = set(threading.enumerate())
    rig = CameraRig([lambda: FakeCamera(frames, disconnect_at=5), None])
    src = ResilientSource(rig.open, grace=0.05, retry_reads=0, backoff=(30.0, 60.0))  # long waits between tries
    _read_until(src, lambda o: rig.attempts >= 2, limit=10_000)
    src.close()
    assert set(threading.enumerate()) <= before, "the camera thread is gone"
    assert all(cam.closed for cam in rig.opened)
    assert src.read() is None


def test_a_fault_inside_the_reader_thread_reconnects_instead_of_ending_it(frames, monkeypatch):
    """Before the fix an exception in _publish ended the camera thread and the lost card stayed for good."""
    publish, calls = ResilientSource._publish, {"n": 0}

    def flaky(self, frame):
        calls["n"] += 1
        if calls["n"] == 3:
            raise MemoryError("simulated fault while handing over a frame")
        publish(self, frame)

    monkeypatch.setattr(ResilientSource, "_publish", flaky)
    rig = CameraRig([lambda: FakeCamera(frames, fps=30), lambda: FakeCamera(frames, fps=30)])
    src = ResilientSource(rig.open, grace=0.1, retry_reads=0, backoff=(0.05, 0.2))
    try:
        _read_until(src, lambda o: rig.attempts >= 2 and calls["n"] >= 10, seconds=30)
        assert src.read_frame().kind == CAMERA and not src.lost  # fresh frames again from the reopened camera
    finally:
        src.close()
    assert all(cam.closed for cam in rig.opened)


def test_camera_missing_at_start_is_the_callers_one_line_error():
    before = threading.active_count()
    with pytest.raises(UserError, match="no camera answers"):
        ResilientSource(CameraRig([None]).open)
    assert threading.active_count() == before


def test_emojicall_run_on_a_camera_keeps_writing_frames_through_an_unplug(frames, tmp_path, monkeypatch):
    from emojicall import cli, sources
    from faulty import model_dir

    rig = CameraRig([lambda: FakeCamera(frames, fps=30, disconnect_at=15), None, None, None,
                     lambda: FakeCamera(frames, fps=30)])
    monkeypatch.setattr(sources, "open_source", lambda spec, w=None, h=None: rig.open())
    out = tmp_path / "call.avi"
    rc = cli.main(["run", "--source", "0", "--output", str(out), "--model", str(model_dir()), "--max-frames", "150"])
    assert rc == 0
    written = clip_frames(out)
    assert len(written) == 150 and rig.attempts == 5 and all(cam.closed for cam in rig.opened)
    # Mostly the card's plain background (MJPG is not bit-exact, and the pipeline may still draw on it).
    is_card = [np.mean(np.all(np.abs(f.astype(int) - BACKGROUND) <= 8, axis=2)) > 0.6 for f in written]
    first, last = is_card.index(True), len(is_card) - 1 - is_card[::-1].index(True)
    assert 15 <= first and last < 149 and all(is_card[first:last + 1]), "one unbroken outage, then the camera"


def test_emojicall_run_with_no_camera_at_that_index_says_so_in_one_line():
    import os
    import subprocess
    import sys
    from pathlib import Path

    from conftest import ROOT
    from faulty import model_dir

    if Path("/dev/video63").exists():
        pytest.skip("this machine has a camera at index 63")
    r = subprocess.run([sys.executable, "-m", "emojicall", "run", "--source", "63", "--output", "none",
                        "--model", str(model_dir())], cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        "emojicall: cannot read camera 63: no camera answers at that index: run `emojicall doctor` to list cameras"]
