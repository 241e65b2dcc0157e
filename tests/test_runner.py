"""The frame loop: a reconnecting source's card goes out untouched, even while tracks from before are alive."""
import numpy as np

from conftest import shared_path
from emojicall.cards import card
from emojicall.classifier import EmotionClassifier
from emojicall.compositor import Compositor
from emojicall.detectors import create_detector
from emojicall.emojis import bundled_pack
from emojicall.pipeline import Pipeline
from emojicall.runner import run_stream
from emojicall.sinks import Sink
from emojicall.sources import open_source


class ClipThenLost:
    """A real clip for `n` frames, then what ResilientSource does while the camera is gone."""

    def __init__(self, path, n):
        self.inner, self.n, self.i, self.live = open_source(path), n, 0, False
        self.size, self.fps = self.inner.size, self.inner.fps
        self.card = card("camera lost, reconnecting", self.size)

    @property
    def lost(self):
        return self.i > self.n

    def read(self):
        self.i += 1
        return self.inner.read() if self.i <= self.n else (self.card if self.i <= self.n + 6 else None)


class Keep(Sink):
    def __init__(self):
        self.frames = []

    def send(self, frame):
        self.frames.append(frame.copy())
        return True


def test_lost_card_goes_out_untouched_after_faces_were_tracked():
    source = ClipThenLost(shared_path("media", "videos", "webcam", "pyfeat_single_face_smile.mp4"), 12)
    pipeline = Pipeline(create_detector("haar"), EmotionClassifier(), Compositor(bundled_pack()))
    sink = Keep()
    stats = run_stream(source, sink, pipeline)
    assert stats.frames == 18 and stats.faces >= 10  # the face was found and tracked before the loss
    for frame in sink.frames[12:]:
        assert np.array_equal(frame, source.card)
