"""Where a live run's CPU goes: the close-up clip played as a 30 fps camera (`run --realtime`) through the app's
builder and Stream, each stage's CPU time on the frame loop's thread (time.thread_time around it), the detection
worker and any other thread as the rest of the process's CPU. Run by hand; writes bench/stage_cpu.md.

    .venv/bin/python bench/stage_cpu.py [--trees BEFORE_CHECKOUT .] [--rounds 3]

Each tree runs in a fresh process, interleaved, `rounds` times; the table gives medians. A paced run costs more
per frame than the same work back to back (caches go cold in the 33 ms between frames), so these are the
numbers a call sees, not bench/pipeline_cpu.py's.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLIP = HERE.parent.parent / "shared" / "media" / "videos" / "bench_720p_closeup.mp4"
# (label, class path in emojicall, method): timed on the frame loop's thread, outermost call only.
STAGES = [("prepare (small gray for flow)", "tracker.FlowTracker", "prepare"),
          ("flow", "tracker.FlowTracker", "predict"),
          ("tracks corrected by a detection", "tracker.FlowTracker", "update"),
          ("detection: regions handed to the worker", "pipeline.Pipeline", "_detect"),
          ("classification (crop + LiteRT)", "classifier.EmotionClassifier", "classify"),
          ("smoothing", "smoother.EmotionSmoother", "update"),
          ("compositing", "compositor.Compositor", "draw")]


def child(clip: Path) -> dict:
    import functools
    import importlib

    from emojicall import build
    from emojicall.settings import Settings
    from emojicall.sources import RealtimeSource, open_source
    from emojicall.stream import Stream

    spent, busy = dict.fromkeys([s[0] for s in STAGES] + ["decoding"], 0.0), [False]

    def timed(label, fn):
        @functools.wraps(fn)
        def call(*args, **kwargs):
            if busy[0]:
                return fn(*args, **kwargs)
            busy[0], t = True, time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[label] += time.thread_time() - t
                busy[0] = False
        return call

    for label, path, method in STAGES:
        module, cls = path.rsplit(".", 1)
        owner = getattr(importlib.import_module(f"emojicall.{module}"), cls)
        setattr(owner, method, timed(label, getattr(owner, method)))
    inner = open_source(clip)
    inner.read = timed("decoding", inner.read)
    source = RealtimeSource(inner)
    stream = Stream(source=source, pipeline=build.pipeline(Settings()))
    start = {}

    def first(out, faces):  # steady state from the first output frame on
        if not start:
            start.update(cpu=time.process_time(), wall=time.perf_counter(), loop=time.thread_time(),
                         frames=stream.stats.frames, spent=dict(spent))
    stream.add_listener(first)
    stats = stream.run()
    stream.close()
    n = stats.frames - start["frames"]
    cpu, wall = time.process_time() - start["cpu"], time.perf_counter() - start["wall"]
    per = {k: 1000 * (v - start["spent"][k]) / n for k, v in spent.items()}
    loop = 1000 * (time.thread_time() - start["loop"]) / n
    per["the rest of the frame loop"] = loop - sum(per.values())
    per["other threads (detection worker)"] = 1000 * cpu / n - loop
    return {"percent": 100 * cpu / wall, "ms": 1000 * cpu / n, "dropped": stats.dropped, "stages": per}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trees", nargs="+", default=[str(HERE.parent)])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clip", type=Path, default=CLIP, help="e.g. bench/.cache's 1080p clip (bench/realtime.py)")
    ap.add_argument("--out", type=Path, default=HERE / "stage_cpu.md")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        sys.path.insert(0, args.child)
        print(json.dumps(child(args.clip)))
        return 0
    runs: dict[str, list] = {t: [] for t in args.trees}
    for _ in range(args.rounds):
        for tree in args.trees:
            out = subprocess.run([sys.executable, __file__, "--child", str(Path(tree).resolve()),
                                  "--clip", str(args.clip.resolve())], check=True,
                                 capture_output=True, text=True, cwd=tree).stdout
            runs[tree].append(json.loads(out.strip().splitlines()[-1]))
            print(tree, runs[tree][-1]["percent"], flush=True)
    med = {t: {"percent": statistics.median(r["percent"] for r in rs), "ms": statistics.median(r["ms"] for r in rs),
               "dropped": max(r["dropped"] for r in rs),
               "stages": {k: statistics.median(r["stages"][k] for r in rs) for k in rs[0]["stages"]}}
           for t, rs in runs.items()}
    rows = list(next(iter(med.values()))["stages"])
    head = " | ".join(Path(t).resolve().name for t in args.trees)
    lines = [f"# CPU of a live run, per stage (bench/stage_cpu.py, {time.strftime('%Y-%m-%d %H:%M')})", "",
             f"{args.clip.name} played as a 30 fps camera through the app's Stream, default chain; ms of CPU a frame, "
             f"medians of {args.rounds} interleaved runs per tree ({', '.join(args.trees)}).", "",
             f"| stage | {head} |", "|---|" + "---|" * len(args.trees)]
    lines += [f"| {k} | " + " | ".join(f"{med[t]['stages'][k]:.2f}" for t in args.trees) + " |" for k in rows]
    lines += ["| **all, ms a frame** | " + " | ".join(f"**{med[t]['ms']:.2f}**" for t in args.trees) + " |",
              "| **% of one core** | " + " | ".join(f"**{med[t]['percent']:.1f}**" for t in args.trees) + " |",
              "| dropped frames (worst run) | " + " | ".join(str(med[t]["dropped"]) for t in args.trees) + " |"]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
