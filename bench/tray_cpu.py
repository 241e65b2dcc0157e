"""CPU of the tray's engine as a call sees it: a Controller (the tray's engine, as `emojicall tray` builds it) reading
the close-up clip as a 30 fps camera through the camera path (ResilientSource's reader thread), publishing to a
pyvirtualcam backend that takes each frame and drops it (registered with pyvirtualcam.register_backend, as the
real v4l2loopback and OBS backends are). Process CPU over WINDOW seconds each: streaming, overlay off, paused.
Run by hand; writes bench/tray_cpu.md.

    .venv/bin/python bench/tray_cpu.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pyvirtualcam

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
from realtime import CLIPS, Repeat  # noqa: E402 - bench/ is this script's folder

WINDOW = 8.0


class DropCam:
    """A pyvirtualcam backend that takes frames as a device would and keeps none."""

    def __init__(self, *, width, height, fps, fourcc, device, **kw):
        self.sent = 0

    def send(self, frame):
        self.sent += 1

    def close(self):
        pass

    def device(self):
        return "/dev/null-bench"

    def native_fourcc(self):
        return None


def main() -> int:
    from emojicall.controller import Controller
    from emojicall.resilient import ResilientSource
    from emojicall.settings import Settings
    from emojicall.sources import RealtimeSource
    from emojicall.vcam import VirtualCamSink

    pyvirtualcam.register_backend("emojicall-bench", DropCam)
    clip = CLIPS["closeup"][0]
    camera = lambda spec, w, h: ResilientSource(lambda: RealtimeSource(Repeat(clip, 20)))  # noqa: E731
    ctl = Controller(Settings(camera=str(clip), width=1280, height=720, fps=30), source_factory=camera,
                     sink_factory=lambda size, fps: VirtualCamSink(size, fps, choice="emojicall-bench"))
    ctl.start()
    while ctl.detector_name is None or not ctl.faces:
        time.sleep(0.1)
    time.sleep(2.0)  # past the start-up
    rows = []
    for what, act in (("streaming, overlay on", lambda: None), ("overlay off", lambda: ctl.set_overlay(False)),
                      ("paused (camera released)", ctl.pause)):
        act()
        time.sleep(1.0)  # the change applies on the worker thread
        cpu, wall, sent = time.process_time(), time.perf_counter(), ctl.stream.stats.frames
        time.sleep(WINDOW)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        rows.append((what, 100 * cpu / wall, (ctl.stream.stats.frames - sent) / wall))
        print(rows[-1], flush=True)
    ctl.stop()
    text = (f"# The tray's engine, CPU by state (bench/tray_cpu.py, {time.strftime('%Y-%m-%d %H:%M')})\n\n"
            f"{clip.name} as a 30 fps camera (ResilientSource's reader thread), default chain, a pyvirtualcam "
            f"backend that drops the frames; process CPU over {WINDOW:.0f} s per state.\n\n"
            "| state | CPU, % of one core | frames sent a second |\n|---|---|---|\n"
            + "\n".join(f"| {w} | {c:.1f} | {f:.1f} |" for w, c, f in rows) + "\n")
    (HERE / "tray_cpu.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
