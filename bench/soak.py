"""Soak test of the frame loop (run by hand; a short run is in tests/test_faults.py):

    .venv/bin/python bench/soak.py [--frames 20000] [--detector mtcnn|haar] [--note "what else ran on the CPU"]

A real clip, reopened at each end (so every loop opens and releases a decoder), goes through the app's
pipeline as the app runs it by default (the default detector on its own thread every 5th frame, flow tracking,
the default model's LiteRT classifier with flip TTA, the emoji compositor) into a NullSink. RSS, open file descriptors and threads are sampled every --every frames. A first short
session (opened, run, closed) warms OpenCV's and LiteRT's lazily created pools, so that the counts taken
before and after the measured session compare like with like. Writes bench/soak.json.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from emojicall.training import jsonfile  # noqa: E402
CLIP = ROOT.parent / "shared" / "media" / "videos" / "webcam" / "pyfeat_single_face_smile.mp4"


def default_model() -> Path:
    from emojicall.model_files import resolve_model_dir

    return resolve_model_dir(None)


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def counts() -> dict:
    return {"fds": len(os.listdir("/proc/self/fd")), "threads_python": threading.active_count(),
            "threads_native": len(os.listdir("/proc/self/task"))}


def settled(target: dict | None, limit: float = 3.0) -> dict:
    """Counts once they equal `target` (or, with None, stay the same for 0.5 s), or after `limit` s. A joined
    thread's OS thread can take a few ms more to exit (10 ms seen here): not a leak; a leaked one never goes."""
    end, now = time.monotonic() + limit, counts()
    while time.monotonic() < end:
        if target is not None and now == target:
            break
        time.sleep(0.5 if target is None else 0.05)
        prev, now = now, counts()
        if target is None and now == prev:
            break
    return now


def session(clip: Path, model: Path, detector: str, frames: int, every: int, samples: list | None = None,
            live: bool = True) -> dict:
    from emojicall import build
    from emojicall.settings import Settings
    from emojicall.sources import CaptureSource, Source
    from emojicall.stream import Stream

    class LoopingClip(Source):
        def __init__(self):
            self.live = live  # detection on its own thread, as for a camera; off: in line, the same every run
            self.cap, self.loops = CaptureSource(clip), 1
            self.fps, self.name = self.cap.fps, self.cap.name

        @property
        def size(self):
            return self.cap.size

        def read(self):
            frame = self.cap.read()
            if frame is None:
                self.cap.close()
                self.cap, self.loops = CaptureSource(clip), self.loops + 1
                frame = self.cap.read()
            return frame

        def close(self):
            self.cap.close()

    pipeline = build.pipeline(Settings(detector=detector, model=str(model)))
    source = LoopingClip()
    t0, done = time.perf_counter(), [0]

    def on_frame(out, faces):
        done[0] += 1
        if samples is not None and done[0] % every == 0:
            samples.append({"frame": done[0], "s": round(time.perf_counter() - t0, 1), "rss_mb": round(rss_mb(), 1),
                            **counts()})

    stream = Stream(source=source, pipeline=pipeline)
    stream.add_listener(on_frame)
    try:
        stats = stream.run(max_frames=frames)
    finally:
        stream.close()
        source.close()
    return {"frames": stats.frames, "faces": stats.faces, "fps": round(stats.fps, 1), "loops": source.loops,
            "faults": pipeline.faults.count}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=20_000)
    p.add_argument("--warmup", type=int, default=2_000, help="frames after which RSS must stay flat")
    p.add_argument("--every", type=int, default=250, help="sample every N frames")
    p.add_argument("--clip", type=Path, default=CLIP)
    p.add_argument("--model", type=Path)
    p.add_argument("--detector", help="default: the app's default detector")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "soak.json")
    p.add_argument("--note", default="", help="what else ran on the machine")
    p.add_argument("--file-mode", action="store_true", help="detect in line, as for a file, instead of on a worker "
                   "thread as for a camera: the face count then does not depend on the machine's speed (the tests)")
    args = p.parse_args(argv)
    if not args.clip.is_file():
        raise SystemExit(f"clip not found: {args.clip}: the shared media folder must sit beside the project")
    from emojicall.detectors import DEFAULT

    model, detector = args.model or default_model(), args.detector or DEFAULT
    # A warm-up session: pools and caches that live for the process.
    session(args.clip, model, detector, 100, args.every, live=not args.file_mode)
    before = settled(None)
    samples: list = []
    t0 = time.perf_counter()
    result = session(args.clip, model, detector, args.frames, args.every, samples, live=not args.file_mode)
    after = settled(before)
    base = next(s for s in samples if s["frame"] >= args.warmup)["rss_mb"]
    later = [s["rss_mb"] for s in samples if s["frame"] >= args.warmup]
    report = {
        "frames": result["frames"], "clip": str(args.clip.relative_to(ROOT.parent)) if ROOT.parent in
        args.clip.parents else str(args.clip), "clip_loops": result["loops"], "model": model.name,
        "detector": detector,
        "faces": result["faces"], "faults": result["faults"], "fps_mean": result["fps"],
        "seconds": round(time.perf_counter() - t0, 1),
        "rss_mb_at_warmup": base, "rss_mb_max_after_warmup": max(later), "rss_mb_end": samples[-1]["rss_mb"],
        "rss_growth_after_warmup": round(max(later) / base - 1, 4), "warmup_frames": args.warmup,
        "before": before, "after": after,
        "leaks": {k: after[k] - before[k] for k in before},
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "note": args.note, "samples": samples,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    jsonfile.write(report, args.out)
    print(f"{report['frames']} frames in {report['seconds']} s ({report['fps_mean']} fps), "
          f"RSS {base} -> max {max(later)} MB after warm-up ({report['rss_growth_after_warmup']:+.1%}), "
          f"leaks {report['leaks']}, wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
