"""Compositing cost by face size: the old float blend against the uint8 premultiplied one, with the bundled
emoji art over real frames of bench_720p_closeup.mp4 (1280x720).

Per face side (160, 300, 500, 700 px; the emoji is 1.25 x that):
- old blend: compositor.blend_reference (the float blend the compositor used) of the resized art; old draw adds
  the resize that the old cache did on every frame when the face size changed.
- new blend: compositor.blend of the cached sprite; new draw: the whole Compositor.draw() for a tracked face whose
  box changes size every frame (+-3%) and, in the "rolling" column, whose eye line turns (0.5 degree a frame),
  so it includes filtering, size/angle snapping and cache misses.
- fade: blend at opacity 0.5 (the few frames of a fade or cross-fade).

    .venv/bin/python bench/compositing.py            # writes bench/compositing.md
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLIP = ROOT.parent / "shared" / "media" / "videos" / "bench_720p_closeup.mp4"
SIDES = (160, 300, 500, 700)


def read_frames(path: Path, n: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while len(out) < n:
        ok, frame = cap.read()
        if not ok:
            break
        out.append(frame)
    cap.release()
    if not out:
        sys.exit(f"cannot read {path}")
    return out


def timed(frames, fn, repeats: int) -> tuple[np.ndarray, np.ndarray]:
    """(wall ms, process CPU ms) per call. CPU time counts every thread of this process but not the time other
    jobs on a shared machine hold the core: on 2 busy cores a call is now and then preempted for a ~4 ms slice."""
    wall, cpu = [], []
    for i in range(repeats):
        frame = frames[i % len(frames)].copy()
        t0, c0 = time.perf_counter(), time.process_time()
        fn(frame, i)
        cpu.append((time.process_time() - c0) * 1e3)
        wall.append((time.perf_counter() - t0) * 1e3)
    return np.array(wall), np.array(cpu)


def summary(runs: tuple[np.ndarray, np.ndarray]) -> str:
    wall, cpu = runs
    return f"{np.median(wall):.2f} / {np.percentile(wall, 95):.2f} / {np.percentile(cpu, 95):.2f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=300)
    ap.add_argument("--out", default=str(ROOT / "bench" / "compositing.md"))
    args = ap.parse_args()
    from emojicall.compositor import Compositor, blend
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_compositor import blend_reference  # the oracle lives with its tests
    from emojicall.emojis import EmojiPack, Sprite
    from emojicall.face import Face
    from emojicall.labels import LABELS
    from emojicall.paths import bundled_emojis

    frames = read_frames(CLIP, 60)
    fh, fw = frames[0].shape[:2]
    art = EmojiPack(bundled_emojis()).images["happy"]
    happy = np.eye(len(LABELS), dtype=np.float32)[LABELS.index("happy")]
    rows = []
    for side in SIDES:
        e = int(side * 1.25)
        x, y = fw // 2 - e // 2, fh // 2 - e // 2

        def resized(s):
            return cv2.resize(art, (s, s), interpolation=cv2.INTER_AREA if s < art.shape[0] else cv2.INTER_LINEAR)

        bgra = resized(e)
        sprite = Sprite.from_bgra(bgra)
        old_blend = timed(frames, lambda f, i: blend_reference(f, bgra, x, y), args.repeats)
        old_draw = timed(frames, lambda f, i: blend_reference(f, resized(e + (i % 7) - 3), x, y), args.repeats)
        new_blend = timed(frames, lambda f, i: blend(f, sprite, x, y), args.repeats)
        fade = timed(frames, lambda f, i: blend(f, sprite, x, y, 0.5), args.repeats)
        draws = []
        for rolling in (False, True):
            comp = Compositor(EmojiPack(bundled_emojis()))

            def draw(f, i, comp=comp, rolling=rolling):
                s = int(side * (1 + 0.03 * np.sin(i * 0.7)))  # a new size every frame
                bx, by = fw // 2 - s // 2, fh // 2 - s // 2
                marks = {}
                if rolling:
                    a = np.radians(20 * np.sin(i / 40))  # +-20 degrees, at most 0.5 degree a frame
                    d = s * 0.2 * np.array([np.cos(a), np.sin(a)])
                    marks = {"left_eye": tuple((np.array([fw / 2, fh / 2]) - d).astype(int)),
                             "right_eye": tuple((np.array([fw / 2, fh / 2]) + d).astype(int))}
                comp.draw(f, [Face(box=(bx, by, s, s), probs=happy, track_id=1, landmarks=marks)])

            for i in range(10):  # fade-in frames done
                draw(frames[0].copy(), -10 + i)
            draws.append(timed(frames, draw, args.repeats))
            cache_mb = comp.pack.cached_bytes / 2**20
        q = summary
        ratio = np.median(old_draw[0]) / np.median(draws[0][0])
        rows.append(f"| {side} | {e} | {q(old_blend)} | {q(old_draw)} | **{q(new_blend)}** | **{q(draws[0])}** | "
                    f"{q(draws[1])} | {q(fade)} | {ratio:.0f}x | {cache_mb:.1f} |")
        print(rows[-1], flush=True)
    text = ["# Compositing cost by face size", "",
            f"Made by `.venv/bin/python bench/compositing.py --repeats {args.repeats}` on "
            f"{platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end "
            f"({cv2.getNumThreads()} OpenCV threads), real frames of `bench_720p_closeup.mp4` (1280x720) with the "
            "bundled `happy.png` art. Milliseconds for one face per frame: **wall p50 / wall p95 / CPU p95** (process "
            "CPU time: on a machine shared with other jobs the wall p95 is mostly the scheduler's slices). See the "
            "script's docstring for what each column times.", "",
            "| face px | emoji px | old blend | old draw (resize + blend) | new blend | new draw | new draw, rolling "
            "head | fade (opacity 0.5) | old draw / new draw (p50) | cache MB after rolling |",
            "|---|---|---|---|---|---|---|---|---|---|", *rows, ""]
    Path(args.out).write_text("\n".join(text))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
