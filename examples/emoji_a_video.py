"""Put emojis on the faces of a video file: python examples/emoji_a_video.py IN.mp4 OUT.mp4"""
import sys

from emojicall.classifier import EmotionClassifier
from emojicall.compositor import Compositor
from emojicall.detectors import create_detector
from emojicall.emojis import bundled_pack
from emojicall.pipeline import Pipeline
from emojicall.runner import run_stream
from emojicall.sinks import FileSink
from emojicall.sources import open_source

src, dst = (sys.argv[1:3] + ["demo", "emoji_a_video.mp4"][len(sys.argv[1:3]):])[:2]
pipeline = Pipeline(create_detector("haar"), EmotionClassifier(), Compositor(bundled_pack()))
with open_source(src) as source, FileSink(dst, source.size, source.fps) as sink:
    stats = run_stream(source, sink, pipeline)
print(f"{stats.frames} frames, {stats.faces} faces, {stats.fps:.1f} fps -> {dst}")
