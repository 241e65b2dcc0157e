"""Put the matching emoji on every face of a video: the smallest use of the stages, through the app's own
builder and frame loop.  python examples/emoji_a_video.py IN.mp4 OUT.mp4"""
import sys

from emojicall import build
from emojicall.settings import Settings
from emojicall.sinks import FileSink
from emojicall.sources import open_source
from emojicall.stream import Stream

source = open_source(sys.argv[1])
stream = Stream(FileSink(sys.argv[2], source.size, source.fps), source=source,
                pipeline=build.pipeline(Settings(detector="haar")))
try:
    stats = stream.run()
finally:
    stream.close()
    source.close()
print(f"{stats.summary()}; {stats.faces} faces")
