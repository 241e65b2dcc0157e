"""The one frame loop (stream.py), as `emojicall run` and the tray drive it: a reconnecting source's card goes out
untouched, a sink that fails mid-run is reported once and released (guarded), a failing listener or read costs
one frame, and the fps monitor reads the real rate."""
import numpy as np
import pytest

from conftest import shared_path
from emojicall import build, cards
from emojicall.frames import CARD, Frame
from emojicall.settings import Settings
from emojicall.sinks import Sink
from emojicall.sources import open_source
from emojicall.stream import FPSMonitor, Stream

CLIP = ("media", "videos", "webcam", "pyfeat_single_face_smile.mp4")


class Keep(Sink):
    def __init__(self, fail_at=None, close_fails=False):
        self.frames, self.fail_at, self.close_fails, self.closed = [], fail_at, close_fails, False

    def send(self, frame):
        if self.fail_at is not None and len(self.frames) >= self.fail_at:
            raise OSError("No such device")  # what v4l2loopback's write gives once the module is unloaded
        self.frames.append(frame.copy())
        return True

    def close(self):
        self.closed = True
        if self.close_fails:
            raise OSError("device already gone")


@pytest.fixture(scope="module")
def pipeline():
    p = build.pipeline(Settings(detector="haar"))
    yield p
    p.close()


def clip_records(n_frames, then_cards=0):
    source = open_source(shared_path(*CLIP))
    card = cards.card(cards.LOST, source.size)
    records = [source.read_frame() for _ in range(n_frames)] + [Frame(card, CARD)] * then_cards
    source.close()
    return iter(records), card


def test_a_card_goes_out_untouched_after_faces_were_tracked(pipeline):
    records, card = clip_records(12, then_cards=6)
    sink = Keep()
    stream = Stream(sink, pipeline=pipeline)
    stats = stream.run(lambda: next(records, None))
    assert stats.frames == 18 and stats.faces >= 10  # the face was found and tracked before the loss
    for frame in sink.frames[12:]:
        assert np.array_equal(frame, card)


def test_a_sink_that_fails_mid_run_is_reported_once_and_closed_even_if_closing_fails(pipeline):
    records, _ = clip_records(20)
    sink, problems = Keep(fail_at=5, close_fails=True), []
    stream = Stream(sink, pipeline=pipeline, on_problem=lambda area, problem: problems.append(problem))
    stats = stream.run(lambda: next(records, None))
    assert stats.frames == 20 and len(sink.frames) == 5 and sink.closed  # the stream went on without it
    assert len(problems) == 1 and "No such device" in problems[0].what and stream.sink_failed


def test_stop_when_sink_fails_ends_the_run_at_that_frame(pipeline):
    records, _ = clip_records(20)
    stream = Stream(Keep(fail_at=3), pipeline=pipeline, on_problem=lambda *p: None, stop_when_sink_fails=True)
    assert stream.run(lambda: next(records, None)).frames == 4


def test_a_read_or_listener_that_raises_costs_one_frame(pipeline):
    records, _ = clip_records(10)
    calls = {"n": 0}

    def read():
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("driver hiccup")
        return next(records, None)

    def listener(out, faces):
        if len(sink.frames) == 6:
            raise ValueError("listener bug")

    sink = Keep()
    stream = Stream(sink, pipeline=pipeline)
    stream.add_listener(listener)
    stats = stream.run(read)
    assert stats.frames == 11 and np.array_equal(sink.frames[2], cards.card(cards.ERROR, (640, 360)))
    assert stream.faults.count == 2


def test_output_size_letterboxes_every_frame(pipeline):
    records, _ = clip_records(3)
    sink = Keep()
    stream = Stream(sink, pipeline=pipeline, size=(640, 480))
    stream.run(lambda: next(records, None))
    assert all(f.shape == (480, 640, 3) and not f[:50].any() for f in sink.frames)


def test_fps_monitor_reads_the_rate_it_is_ticked_at():
    fps = FPSMonitor()
    for i in range(100):
        fps.tick(i / 25)
    assert fps.value == pytest.approx(25, rel=1e-6)


def test_a_frame_is_drawn_on_in_place_only_when_no_one_else_holds_it(pipeline):
    """A file's reader hands a new array per frame (drawn on without a 0.2 ms copy); a camera's reader keeps its
    last frame to hand again after a glitch, so that one must come back clean."""
    from emojicall.resilient import ResilientSource

    records, _ = clip_records(10)
    records = list(records)
    assert all(r.own for r in records)
    kept = [r.image.copy() for r in records]
    sink = Keep()
    Stream(sink, pipeline=pipeline).run(lambda it=iter(records): next(it, None))
    drawn = [i for i, (r, k) in enumerate(zip(records, kept)) if not np.array_equal(r.image, k)]
    assert len(drawn) >= 8  # the emoji went onto the reader's own arrays
    assert all(np.array_equal(records[i].image, sink.frames[i]) for i in drawn)

    clip = open_source(shared_path(*CLIP))
    camera = ResilientSource(lambda: clip, grace=1.0)
    try:
        shown = [camera.read_frame() for _ in range(10)]
        assert all(not r.own for r in shown if r.kind != CARD)
        before = [r.image.copy() for r in shown]
        pipeline.reset()
        Stream(Keep(), pipeline=pipeline).run(lambda it=iter(shown): next(it, None))
        assert all(np.array_equal(r.image, b) for r, b in zip(shown, before))
    finally:
        camera.close()
