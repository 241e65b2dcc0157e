"""What a paced clip costs before any stage runs: the floor under issue 23's "overlay off <= 3% of one core" and
"1080p30 <= 25%". Each row is a fresh process playing the clip as a 30 fps camera for `--frames` frames and doing
only this much per frame; CPU of the whole process per frame, medians of `--rounds` interleaved runs. Run by hand;
writes bench/decode_floor.md.

    .venv/bin/python bench/decode_floor.py [--rounds 3] [--frames 300]

Rows: the pacing loop alone; the app's own reader (`RealtimeSource` over `CaptureSource`, as `run --realtime`
reads) asked only to pass each frame over (`skip()`: demux and decode, no BGR picture); the same reader's `read()`
(decode and the BGR picture the stages get: what overlay off sends); PyAV decoding to its own frame with no
conversion (the other decoder the app installs, for comparison).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CLIPS = {"720p close-up": "closeup", "1080p (the close-up, bench/.cache)": "1080p"}
MODES = {"pacing alone": "idle", "decode, no picture (reader.skip)": "skip",
         "decode + BGR picture (reader.read: what overlay off sends)": "read",
         "PyAV decode, no conversion": "pyav"}


def child(clip: Path, mode: str, frames: int) -> float:
    """ms of process CPU a frame over `frames` paced frames, after one warm-up second."""
    from emojicall.sources import CaptureSource, RealtimeSource

    if mode == "pyav":
        import av

        container = av.open(str(clip))
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1  # as the app's reader: one decoding thread
        decoded = container.decode(stream)

        def step():
            next(decoded)
        fps = float(stream.average_rate)
    else:
        inner = CaptureSource(clip)
        src = RealtimeSource(inner)
        step = {"idle": lambda: None, "skip": inner.skip, "read": src.read}[mode]
        fps = src.fps
    t0 = time.monotonic()
    for i in range(frames + int(fps)):
        if i == int(fps):
            c0 = time.process_time()
        if mode != "read":  # read() paces itself, as the app's reader does
            due = t0 + i / fps - time.monotonic()
            if due > 0:
                time.sleep(due)
        step()
    return 1000 * (time.process_time() - c0) / frames


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--frames", type=int, default=300, help="timed frames a run (the clips have 338)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "decode_floor.md")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(Path(args.child[0]), args.child[1], args.frames)))
        return 0
    from bench.realtime import clip_file

    runs = {(c, m): [] for c in CLIPS for m in MODES}
    for _ in range(args.rounds):
        for (c, m), values in runs.items():
            out = subprocess.run([sys.executable, __file__, "--frames", str(args.frames), "--child",
                                  str(clip_file(CLIPS[c])), MODES[m]], check=True, capture_output=True, text=True)
            values.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(c, m, f"{values[-1]:.3f} ms", flush=True)
    lines = [f"# What a paced clip costs before any stage runs (bench/decode_floor.py, {time.strftime('%Y-%m-%d %H:%M')})",
             "", (f"Each clip played as a 30 fps camera, {args.frames} frames a run; CPU of the whole process, medians "
             f"of {args.rounds} interleaved runs. 3% of one core at 30 fps is 1.0 ms a frame."), "",
             "| clip | work a frame | ms a frame | % of one core |", "|---|---|---|---|"]
    for (c, m), values in runs.items():
        ms = statistics.median(values)
        lines.append(f"| {c} | {m} | {ms:.2f} | {100 * ms * 30 / 1000:.1f} |")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
