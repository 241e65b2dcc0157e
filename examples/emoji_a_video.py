"""Put the matching emoji on every face of a video: the smallest use of the stages, through the app's own
builder and frame loop.  python examples/emoji_a_video.py IN.mp4 OUT.mp4"""
import sys

from emojicall.build import build_pipeline
from emojicall.settings import Settings
from emojicall.sinks import FileSink
from emojicall.sources import open_source
from emojicall.stream import Stream

source = open_source(sys.argv[1])
stream = Stream(FileSink(sys.argv[2], source.size, source.fps))
stream.pipeline = build_pipeline(Settings(detector="haar"))
try:
    stats = stream.run(source.read_frame)
finally:
    stream.close()
    source.close()
print(f"{stats.frames} frames, {stats.faces} faces, {stats.fps:.1f} fps")
