"""CPU time per frame of Pipeline.process alone (no capture, no output), for comparing versions of the code in
one run, interleaved (run by hand, not in CI):

    .venv/bin/python bench/pipeline_cpu.py [--trees OLD NEW ...] [--rounds 3] [--scenes 720p 1080p 4faces]

Each (round, scene, tree) runs in a fresh process with PYTHONPATH=tree, so one command compares checkouts of
the project (e.g. `git archive COMMIT | tar -x -C /tmp/old`) on the same clip under the same machine load. The
pipeline is the app's default chain as build.pipeline makes it, detection synchronous (the same work a
camera run does on its worker thread, counted the same by process CPU time). The clip is the close-up of
../shared/media/videos (1280x720, 30 fps), decoded into memory first; scenes: 720p as it is, 1080p (each frame
upscaled, outside the timing), 4faces (2x2 of the frame at half size: four real faces in one 720p frame); and
off: the 720p clip with the overlay off (the tray's switch); switch: seconds from a cut between two expressions
of one actor until the emoji shows the new one.
CPU: time.process_time() around process(), all threads of the process; "% of one core" is that at 30 fps.
Prints one JSON line per child and a table of medians over rounds; --out writes the JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLIP = HERE.parent.parent / "shared" / "media" / "videos" / "bench_720p_closeup.mp4"
SCENES = ("720p", "1080p", "4faces", "off")


def _scene_frame(frame, scene: str):
    import cv2
    import numpy as np

    if scene == "1080p":
        return cv2.resize(frame, (1920, 1080), interpolation=cv2.INTER_LINEAR)
    if scene == "4faces":
        half = cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2), interpolation=cv2.INTER_AREA)
        return np.vstack([np.hstack([half, half[:, ::-1]]), np.hstack([half[:, ::-1], half])])
    return frame


def app_pipeline(build, settings):
    """The app's builder: build.pipeline, or build_pipeline in a checkout from before it (--trees)."""
    make = getattr(build, "pipeline", None) or build.build_pipeline
    return make(settings, detector_fallback=False)


# What each step of issue 23 changed, undone one by one to measure each (a tree given as PATH@detect+tracker).
# Keeping an unchanged face's score between frames was measured this way too, and not kept (pipeline.py).
def _undo(pipe, steps: list[str]) -> None:
    if "detect" in steps:  # the whole frame every detect_every-th frame, whatever the tracks do
        pipe.calm_every = pipe.search_every = 1
    if "tracker" in steps:  # flow on 320 px, 40 points, 3 pyramid levels
        from emojicall import tracker

        tracker._LK["maxLevel"] = 3
        pipe.tracker = tracker.FlowTracker(width=320, max_points=40)


def child(scene: str, clip: Path, undo: list[str]) -> dict:
    import cv2
    import numpy as np

    from emojicall import build
    from emojicall.settings import Settings

    cap, frames = cv2.VideoCapture(str(clip)), []
    while (frame := cap.read()[1]) is not None:
        frames.append(frame)
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    pipe = app_pipeline(build, Settings(overlay=scene != "off"))
    _undo(pipe, undo)
    cpu, faces = [], []
    for i, frame in enumerate(frames):
        frame = _scene_frame(frame, scene)
        c0 = time.process_time()
        _, found = pipe.process(frame, i / fps)
        cpu.append(time.process_time() - c0)
        faces.append(len(found))
    pipe.close()
    steady = cpu[5:]  # the first frames load and allocate
    return {"scene": scene, "frames": len(frames),
            "faults": pipe.faults.count, "faces_mean": round(float(np.mean(faces)), 2),
            "cpu_ms_mean": round(1000 * float(np.mean(steady)), 3),
            "cpu_ms_p95": round(1000 * float(np.percentile(steady, 95)), 3),
            "core_percent_at_30fps": round(100 * 30 * float(np.mean(steady)), 1)}


# Expression changes as cuts between two real clips of one actor (bench/realtime.py's smoothing pairs).
CREMA = "expressions/cremad_actor1001/1001_DFA_{}_XX.flv"
CUTS = [("NEU", "HAP"), ("HAP", "ANG"), ("ANG", "HAP"), ("HAP", "SAD")]


def switch_child(clip_dir: Path, undo: list[str]) -> dict:
    """Per cut, seconds until the largest face's emoji changes from the one shown at the cut, and until it is the
    one the second clip shows most (over its second half, in the same run; these clips are ambiguous, so that
    target differs between versions). The app's chain, detection synchronous, frames at 30 fps."""
    import cv2
    from collections import Counter

    from emojicall import build
    from emojicall.settings import Settings
    from emojicall.training.video_eval import largest_label

    def frames(name):
        cap, out = cv2.VideoCapture(str(clip_dir / CREMA.format(name))), []
        while (f := cap.read()[1]) is not None:
            out.append(f)
        return out

    def seconds(shown, wanted):
        return next((round(i / 30, 3) for i, x in enumerate(shown) if wanted(x)), None)

    delays = {}
    for a, b in CUTS:
        first, second = frames(a), frames(b)
        pipe = app_pipeline(build, Settings())  # a new one per pair: versions without reset()
        _undo(pipe, undo)
        for i, f in enumerate(first):
            before = largest_label(pipe.process(f, i / 30)[1])
        after = [largest_label(pipe.process(f, (len(first) + i) / 30)[1]) for i, f in enumerate(second)]
        target = Counter(x for x in after[len(after) // 2:] if x).most_common(1)[0][0]
        delays[f"{a}->{b}"] = {"shown": f"{before}->{target}", "change_s": seconds(after, lambda x: x != before),
                               "target_s": seconds(after, lambda x: x == target)}
        pipe.close()
    return {"scene": "switch", "delay_s": delays}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trees", nargs="+", default=[str(HERE.parent)],
                    help="project checkouts to compare; PATH@classify+detect+tracker: with those steps undone")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scenes", nargs="+", default=["720p"], choices=SCENES + ("switch",),
                    help="switch: seconds until an expression change shows (cuts between real clips)")
    ap.add_argument("--clip", type=Path, default=CLIP)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--undo", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        undo = [u for u in args.undo.split("+") if u]
        result = switch_child(args.clip.parent, undo) if args.child == "switch" else child(args.child, args.clip, undo)
        print(json.dumps(result))
        return 0
    rows = []
    for _ in range(args.rounds):
        for scene in args.scenes:
            for tree in args.trees:
                path, _, undo = tree.partition("@")
                run = subprocess.run([sys.executable, __file__, "--child", scene, "--clip", str(args.clip),
                                      "--undo", undo], capture_output=True, text=True, timeout=1200,
                                     env={**os.environ, "PYTHONPATH": path, "TF_CPP_MIN_LOG_LEVEL": "3"})
                if run.returncode != 0:
                    raise SystemExit(f"{tree} {scene}: {run.stderr[-1500:]}")
                rows.append({"tree": tree, **json.loads(run.stdout.strip().splitlines()[-1])})
                print(json.dumps(rows[-1]), flush=True)
    print(f"\nload average at the end {os.getloadavg()}; medians over {args.rounds} rounds")
    print("| scene | tree | CPU ms/frame mean | p95 | % of one core at 30 fps | faces | faults |")
    print("|---|---|---|---|---|---|---|")
    for scene in (s for s in args.scenes if s != "switch"):
        for tree in args.trees:
            mine = [r for r in rows if r["scene"] == scene and r["tree"] == tree]
            med = {k: statistics.median(r[k] for r in mine) for k in ("cpu_ms_mean", "cpu_ms_p95",
                                                                          "core_percent_at_30fps")}
            print(f"| {scene} | {tree} | {med['cpu_ms_mean']:.2f} | {med['cpu_ms_p95']:.2f} | "
                  f"{med['core_percent_at_30fps']:.1f} | {mine[0]['faces_mean']} | {mine[0]['faults']} |")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
