"""Real-time benchmark of the whole frame loop on real clips (run by hand, not in CI); one command:

    .venv/bin/python bench/realtime.py [--note "what else ran on the CPU"]

For the benchmark clips of ../shared/media/videos (1280x720 and 640x480 with a small face, a 1280x720 close-up, and
the close-up scaled to 1080p or tiled 2x2 for four faces, encoded once into bench/.cache), in file mode (every frame,
as fast as possible) and live mode (a camera emulated at the clip's fps: frames not taken in time are dropped), it
runs each configuration in a fresh subprocess and records per-stage ms (p50/p95), end-to-end fps, capture-to-output
latency, CPU use, peak RSS and start-up time to the first output frame:
  naive   Haar (1.1, 5, min 30) on every full frame, Keras model.predict per face
  fer     the `fer` package (Haar + its TFLite model), from its own venv (FER_PYTHON, default /tmp/fervenv)
  haar    EmojiCall with Haar: detection every 5th frame (live: on its own thread), flow tracking, batched LiteRT
  mtcnn   EmojiCall with MTCNN, the same way
  blazeface  EmojiCall with BlazeFace (LiteRT), the same way
  mtcnn:overlay-off  `run --no-overlay`: frames pass through (what remains: capture, decoding, the loop)
EmojiCall rows run what the app runs: `emojicall run --output none` through build.pipeline and the app's Stream
(live mode is `--realtime`). Also the emoji stability of the smoother on real clips. Writes bench/results.json
and bench/results.md.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from emojicall.training import jsonfile  # noqa: E402
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
MEDIA = ROOT.parent / "shared" / "media" / "videos"
# The benchmark clips: a small face (130-166 px) at 720p and 480p, and a face at webcam distance (360-440 px).
# Two made from the close-up, for the EmojiCall rows: scaled to 1920x1080, and tiled 2x2 (four faces at 720p). They
# are encoded once as the close-up is (MPEG-4 Part 2 at its bit rate per pixel), so every row decodes its own clip
# as a camera stream is decoded; scaling each frame in the timed process had cost more than the decoding.
CACHE = ROOT / "bench" / ".cache"
CLIPS = {"720p": (MEDIA / "bench_720p.mp4", ""), "480p": (MEDIA / "bench_480p.mp4", ""),
         "closeup": (MEDIA / "bench_720p_closeup.mp4", ""), "1080p": (MEDIA / "bench_720p_closeup.mp4", "1080p"),
         "four": (MEDIA / "bench_720p_closeup.mp4", "four")}
# mtcnn:overlay-off is `run --no-overlay`: frames pass through untouched (capture and decoding still run).
CONFIGS = ("naive", "fer", "haar", "mtcnn", "blazeface", "mtcnn:overlay-off")
MODES = ("file", "live")
FER_PYTHON = os.environ.get("FER_PYTHON", "/tmp/fervenv/bin/python")
DETECT_EVERY = 5
REPEAT = 2  # file mode plays each (11 s) clip this many times, for steadier numbers


def pct(values) -> dict | None:
    import numpy as np

    return {"p50": round(1000 * float(np.percentile(values, 50)), 2),
            "p95": round(1000 * float(np.percentile(values, 95)), 2)} if values else None


def best_model() -> Path:
    """The model the app uses (EMOJICALL_MODEL or the default), so the bench times what users run."""
    from emojicall.model_files import resolve_model_dir

    return resolve_model_dir(None)


# ---------------------------------------------------------------- child: one configuration, one clip, one mode
class PacedClip:
    """A clip played like a camera: frame i is ready at start + i / fps, whether or not anyone took i - 1."""

    def __init__(self, path: Path, repeat: int = 1):
        import cv2

        self._cv2, self.path, self.repeat = cv2, path, repeat
        self._cap = cv2.VideoCapture(str(path))
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 1 <= fps <= 120 else 30.0
        self.name, self.live, self._i, self._t0 = str(path), True, 0, None
        self.size = (int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))

    def _next(self):
        """The next decoded frame, looping the clip `repeat` times; None at the end."""
        ok, frame = self._cap.read()
        if not ok and self.repeat > 1:
            self.repeat -= 1
            self._cap.release()
            self._cap = self._cv2.VideoCapture(str(self.path))
            ok, frame = self._cap.read()
        return frame if ok else None

    def read(self):
        frame = self._next()
        if frame is None:
            return None
        self._t0 = self._t0 or time.perf_counter()
        delay = self._t0 + self._i / self.fps - time.perf_counter()
        self._i += 1
        if delay > 0:
            time.sleep(delay)
        return frame

    def close(self):
        self._cap.release()


class FileClip(PacedClip):
    def read(self):
        return self._next()


def make_processor(config: str, mode: str):
    """A function frame -> (output frame, stage seconds dict) for one configuration."""
    if config == "fer":
        from fer.fer import FER  # fer 25.x: the package root no longer re-exports it

        fer = FER(mtcnn=False, use_tflite=True)

        def run(frame):
            t = time.perf_counter()
            fer.detect_emotions(frame)
            return frame, {"total": time.perf_counter() - t}
        return run

    from emojicall.compositor import Compositor
    from emojicall.emojis import bundled_pack

    compositor = Compositor(bundled_pack())
    if config == "naive":
        import cv2
        import keras
        import numpy as np

        from emojicall.crop import crop_face, to_gray
        from emojicall.detectors.haar import HaarDetector
        from emojicall.labels import LABELS

        det = HaarDetector(scale_factor=1.1, min_neighbors=5, min_size=30, max_width=0)
        model = keras.models.load_model(best_model() / "model.keras", safe_mode=True, compile=False)
        meta = json.loads((best_model() / "meta.json").read_text())
        order = np.array([meta["labels"].index(n) for n in LABELS])

        def run(frame):
            t0 = time.perf_counter()
            faces = det.detect(frame)
            t1 = time.perf_counter()
            gray = to_gray(frame)
            for f in faces:
                crop = crop_face(gray, f.box, meta["input_size"]).astype(np.float32)[None, ..., None]
                f.probs = model.predict(crop, verbose=0)[0][order]
            t2 = time.perf_counter()
            out = compositor.draw(frame.copy(), faces)
            t3 = time.perf_counter()
            return out, {"detect": t1 - t0, "classify": t2 - t1, "composite": t3 - t2}
        del cv2
        return run

    raise ValueError(f"{config} is an EmojiCall config: child() runs it through the app's Stream")


class Repeat:
    """A file source played `times` times over (steadier numbers from an 11 s clip)."""

    def __init__(self, clip: Path, times: int):
        from emojicall.sources import open_source

        self._open, self.times = lambda: open_source(clip), times
        self._src = self._open()
        self.fps, self.name, self.live, self.fresh = self._src.fps, str(clip), False, True
        self.size = self._src.size

    def _again(self) -> bool:
        if self.times <= 1:
            return False
        self.times -= 1
        self._src.close()
        self._src = self._open()
        return True

    def read(self):
        frame = self._src.read()
        if frame is None and self._again():
            frame = self._src.read()
        return frame

    def read_frame(self):
        from emojicall.frames import Frame

        frame = self.read()
        return None if frame is None else Frame(frame, own=True)  # decoded anew: as the app's reader

    def skip(self) -> bool:
        return self._src.skip() or (self._again() and self._src.skip())

    def close(self):
        self._src.close()


def app_child(config: str, clip_name: str, mode: str) -> dict:
    """One EmojiCall configuration through the app's own loop, as `emojicall run --output none` runs it (live
    mode: `--realtime`, a file played as a camera would give it, late frames dropped); a listener on the
    Stream times each frame."""
    from emojicall import build
    from emojicall.settings import Settings
    from emojicall.sources import RealtimeSource

    clip = clip_file(clip_name)
    from emojicall.stream import Stream

    detector, _, option = config.partition(":")
    settings = Settings(detector=detector, model=str(best_model()), detect_every=DETECT_EVERY,
                        overlay=option != "overlay-off")
    pipeline = build.pipeline(settings, detector_fallback=False)
    source = Repeat(clip, REPEAT)
    if mode == "live":
        source = RealtimeSource(source)
    stream = Stream(source=source, pipeline=pipeline)
    stages: dict[str, list] = {}
    latency, state = [], {}

    def timer(out, faces):
        now = time.monotonic()
        if not state:  # steady state from the first output frame on: start-up is timed apart
            state.update(first=time.time(), ru=resource.getrusage(resource.RUSAGE_SELF), t=time.perf_counter(),
                         frames=stream.stats.frames)
            return
        if mode == "live":
            latency.append(now - source.stamp)
        t = pipeline.times
        if t.detect and settings.overlay:
            for k in ("detect", "track", "classify", "composite"):
                stages.setdefault(k, []).append(getattr(t, k)[-1])
    stream.add_listener(timer)
    try:
        stats = stream.run()
    finally:
        stream.close()
        source.close()
    wall = time.perf_counter() - state["t"]
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    n = stats.frames - state["frames"]

    ru0 = state["ru"]
    return {"config": config, "clip": clip_name, "mode": mode,
            "frames": stats.frames, "source_fps": round(source.fps, 2), "dropped": stats.dropped,
            "fps": round(n / wall, 1) if wall > 0 else None, "faces_per_frame": round(stats.faces / stats.frames, 2),
            "stages_ms": {k: pct(v) for k, v in stages.items()},
            "latency_ms": pct(latency), "first_output_time": state["first"],
            "cpu_percent": round(100 * (ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime) / wall, 1),
            "peak_rss_mb": round(ru1.ru_maxrss / 1024, 1)}


def clip_file(name: str) -> Path:
    """The clip a row plays: a shared one, or one made from the close-up (encoded on first use)."""
    clip, shape = CLIPS[name]
    if not shape:
        return clip
    out = CACHE / f"{clip.stem}_{shape}.mp4"
    if not out.is_file():
        import av
        import cv2
        import numpy as np

        CACHE.mkdir(parents=True, exist_ok=True)
        with av.open(str(clip)) as src, av.open(str(out) + ".part", "w", format="mp4") as dst:
            s = src.streams.video[0]
            w, h = (1920, 1080) if shape == "1080p" else (s.width, s.height)
            enc = dst.add_stream("mpeg4", rate=s.average_rate)
            enc.width, enc.height, enc.pix_fmt = w, h, "yuv420p"
            enc.bit_rate = int(s.bit_rate * w * h / (s.width * s.height))
            for frame in src.decode(s):
                img = frame.to_ndarray(format="bgr24")
                if shape == "1080p":
                    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
                else:
                    small = cv2.resize(img, (s.width // 2, s.height // 2), interpolation=cv2.INTER_AREA)
                    img = np.vstack([np.hstack([small, small[:, ::-1]])] * 2)
                dst.mux(enc.encode(av.VideoFrame.from_ndarray(img, format="bgr24")))
            dst.mux(enc.encode())
        os.replace(str(out) + ".part", out)
    return out


class AppReader:
    """For the baselines: a file read in order (stamp = when it was read), or a camera through ResilientSource
    (newest frame only; frames not taken in time are dropped and counted)."""

    def __init__(self, clip: Path, mode: str):
        if mode == "file":
            self.inner, self.resilient = FileClip(clip, REPEAT), None
        else:
            from emojicall.errors import UserError
            from emojicall.resilient import ResilientSource

            def ended():
                raise UserError("the clip played through")
            self.inner = PacedClip(clip, 2)
            self.resilient = ResilientSource(ended, first=self.inner, grace=1.0, retry_reads=0)
        self.fps, self.stamp, self._seq = self.inner.fps, 0.0, 0

    @property
    def dropped(self) -> int:
        return self.resilient.dropped if self.resilient else 0

    def read(self):
        if self.resilient is None:
            frame = self.inner.read()
            self.stamp = time.perf_counter()
            return frame
        while True:  # a fresh frame, or None once the clip has played through
            record = self.resilient.read_frame()
            if record is None or record.kind != "camera" or self.resilient.failed_reads:
                return None
            if self.resilient.seq != self._seq:
                self._seq, self.stamp = self.resilient.seq, self.resilient.stamp
                return record.image

    def close(self):
        (self.resilient or self.inner).close()


def child(config: str, clip_name: str, mode: str) -> dict:
    """The baselines (naive, fer), which have no Stream: a reader like the app's, their own processing."""
    clip = CLIPS[clip_name][0]
    process = make_processor(config, mode)
    reader = AppReader(clip, mode)
    stages: dict[str, list] = {}
    latency, first_out, n = [], None, 0
    ru0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    while (frame := reader.read()) is not None:
        out, times = process(frame)
        done = time.perf_counter()
        if first_out is None:
            first_out = time.time()
            ru0, t0 = resource.getrusage(resource.RUSAGE_SELF), done  # steady state from here
        else:
            n += 1
            latency.append(done - reader.stamp)
            for k, v in times.items():
                stages.setdefault(k, []).append(v)
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    reader.close()

    return {"config": config, "clip": clip_name, "mode": mode, "frames": n + 1,
            "source_fps": round(reader.fps, 2), "dropped": reader.dropped,
            "fps": round(n / wall, 1) if wall > 0 else None,
            "stages_ms": {k: pct(v) for k, v in stages.items()},
            "latency_ms": pct(latency), "first_output_time": first_out,
            "cpu_percent": round(100 * (ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime) / wall, 1),
            "peak_rss_mb": round(ru1.ru_maxrss / 1024, 1)}


# ---------------------------------------------------------------- parent
def run_child(config: str, clip: str, mode: str) -> dict:
    python = FER_PYTHON if config == "fer" else sys.executable
    if config == "fer" and not Path(python).exists():
        return {"config": config, "clip": clip, "mode": mode,
                "error": f"{python} not found: python3 -m venv /tmp/fervenv && /tmp/fervenv/bin/pip install fer"}
    start = time.time()
    proc = subprocess.run([python, __file__, "--child", config, clip, mode], capture_output=True, text=True,
                          timeout=900, env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"config": config, "clip": clip, "mode": mode,
                "error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]}
    result = json.loads(lines[-1])
    result["startup_s"] = round(result.pop("first_output_time") - start, 2)
    return result


def smoothing_metrics() -> dict:
    """Emoji switches per second on still faces, and frames until a real change shows, with and without the
    smoother, on the best model's real outputs (Haar boxes, largest face)."""
    import cv2
    import numpy as np

    from emojicall.classifier import EmotionClassifier
    from emojicall.detectors import create_detector
    from emojicall.face import Face
    from emojicall.model_files import APP_TTA
    from emojicall.smoother import EmotionSmoother

    clf, det = EmotionClassifier(best_model(), tta=APP_TTA), create_detector("haar")
    crema = "expressions/cremad_actor1001/1001_DFA_{}_XX.flv"
    still = [crema.format("NEU"), crema.format("HAP"), crema.format("ANG"), "webcam/intel_asl_book.mkv",
             "webcam/pyfeat_single_face_smile.mp4"]
    steps = [(crema.format("NEU"), crema.format("HAP")), (crema.format("HAP"), crema.format("ANG")),
             (crema.format("ANG"), crema.format("HAP")), (crema.format("HAP"), crema.format("SAD")),
             ("webcam/pyfeat_single_face_smile.mp4", crema.format("HAP"))]
    probs = {}
    for clip in {c for pair in steps for c in pair} | set(still):
        cap, seq = cv2.VideoCapture(str(MEDIA / clip)), []
        while (frame := cap.read()[1]) is not None:
            faces = det.detect(frame)
            if faces:
                seq.append(clf.classify(frame, [max(faces, key=lambda f: f.area)])[0])
        probs[clip] = np.array(seq)

    def shown(seq, smooth):
        s, out = EmotionSmoother(), []
        for p in seq:
            f = Face(box=(0, 0, 2, 2), probs=p, track_id=1)
            if smooth:
                s.update([f])
            out.append(int(np.argmax(f.probs)))
        return np.array(out)

    result = {"model": best_model().name, "smoother": vars(EmotionSmoother()) | {}}
    result["smoother"] = {k: v for k, v in result["smoother"].items() if not k.startswith("_")}
    for smooth in (False, True):
        key = "smoothed" if smooth else "raw"
        seconds = sum(len(probs[c]) for c in still) / 30.0
        switches = sum(int((np.diff(shown(probs[c], smooth)) != 0).sum()) for c in still)
        delays = {}
        for a, b in steps:
            target = int(np.bincount(probs[b].argmax(1)).argmax())
            lbl = shown(np.concatenate([probs[a], probs[b]]), smooth)[len(probs[a]):]
            hit = np.nonzero(lbl == target)[0]
            delays[f"{Path(a).stem}->{Path(b).stem}"] = round(float(hit[0]) / 30, 3) if len(hit) else None
        result[key] = {"switches_per_s_still": round(switches / seconds, 2), "still_seconds": round(seconds, 1),
                       "delay_s_after_change": delays}
    return result


def headline(report: dict) -> list[str]:
    """Live mode first: what the effect costs while the camera sets the pace, each config next to the naive loop
    and `fer` measured in the same run."""
    rows = ["| clip | config | CPU % of one core | dropped | latency ms p50/p95 | fps | peak RSS MB |",
            "|---|---|---|---|---|---|---|"]
    for r in report["runs"]:
        if r["mode"] == "live" and "error" not in r:
            lat = r["latency_ms"] or {"p50": "-", "p95": "-"}
            rows.append(f"| {r['clip']} | {r['config']} | **{r['cpu_percent']}** | {r['dropped']} of "
                        f"{r['frames'] + r['dropped']} | "
                        f"{lat['p50']}/{lat['p95']} | {r['fps']} | {r['peak_rss_mb']} |")
    return rows


def write_md(report: dict) -> str:
    rows = ["| clip | mode | config | fps | x naive | detect ms p50/p95 | track | classify | composite | "
            "latency ms p50/p95 | dropped | CPU % | peak RSS MB | startup s |", "|" + "---|" * 14]
    naive = {(r["clip"], r["mode"]): r.get("fps") for r in report["runs"] if r["config"] == "naive"}

    def st(r, k):
        v = (r.get("stages_ms") or {}).get(k)
        return f"{v['p50']}/{v['p95']}" if v else "-"
    for r in report["runs"]:
        if "error" in r:
            rows.append(f"| {r['clip']} | {r['mode']} | {r['config']} | error: {r['error']} |" + " |" * 10)
            continue
        base = naive.get((r["clip"], r["mode"]))
        ratio = f"{r['fps'] / base:.1f}" if base else "-"
        lat = r["latency_ms"] or {"p50": "-", "p95": "-"}
        det = st(r, "detect") if r["config"] != "fer" else f"(all) {st(r, 'total')}"
        rows.append(f"| {r['clip']} | {r['mode']} | {r['config']} | {r['fps']} | {ratio} | {det} | {st(r, 'track')} | "
                    f"{st(r, 'classify')} | {st(r, 'composite')} | {lat['p50']}/{lat['p95']} | {r['dropped']} | "
                    f"{r['cpu_percent']} | {r['peak_rss_mb']} | {r.get('startup_s', '-')} |")
    sm = report.get("smoothing", {})
    lines = [f"# Real-time benchmark ({report['date']})", "", f"CPU: {report['cpu']}", "",
             f"Model: {report['model']}, as the app runs it. EmojiCall rows are `emojicall run --output none` "
             "through the app's own Stream (live: `--realtime`, the clip played as a camera would give it, frames "
             f"not taken in time dropped); detection every {DETECT_EVERY}th frame, on a worker thread when live. "
             f"Each clip plays {REPEAT}x. Ratios are against the naive loop of the same run. CPU % is this process's "
             "user + system time over wall time from the first output frame, decoding included. Re-run: "
             "`.venv/bin/python bench/realtime.py`.", "", "## Live (the camera sets the pace)", "",
             *headline(report), "", "## Every run", "", *rows, ""]
    if sm:
        lines += ["## Emoji stability (smoother)", "",
                  f"Smoother {sm['smoother']}, model {sm['model']}, {sm['raw']['still_seconds']} s of still faces.", "",
                  "| | emoji switches / s on still faces | seconds until a real change shows |", "|---|---|---|",
                  f"| raw argmax | {sm['raw']['switches_per_s_still']} | {sm['raw']['delay_s_after_change']} |",
                  f"| smoothed | {sm['smoothed']['switches_per_s_still']} | {sm['smoothed']['delay_s_after_change']} |", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", nargs=3, metavar=("CONFIG", "CLIP", "MODE"), help=argparse.SUPPRESS)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--clips", default=",".join(CLIPS))
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--note", default="", help="what else was running on the CPU")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="writes OUT.json and OUT.md")
    ap.add_argument("--no-smoothing", dest="smoothing", action="store_false", help="skip the smoother measurement")
    args = ap.parse_args(argv)
    if args.child:
        run = child if args.child[0] in ("naive", "fer") else app_child
        print(json.dumps(run(*args.child)), flush=True)
        return 0
    missing = sorted({str(p) for p, _ in CLIPS.values() if not p.is_file()})
    if missing:
        print(f"needs {', '.join(missing)} (the shared media folder beside the project root)", file=sys.stderr)
        return 2
    load = os.getloadavg()[0]
    report = {"date": time.strftime("%Y-%m-%d %H:%M"), "model": best_model().name,
              "cpu": f"{os.cpu_count()} cores, 1-min load average {load:.1f} at the start"
                     + (f"; {args.note}" if args.note else ""), "runs": []}
    for clip in args.clips.split(","):
        for mode in args.modes.split(","):
            for config in args.configs.split(","):
                if config in ("naive", "fer") and CLIPS[clip][1]:
                    continue  # the baselines read the shared clips as they are
                clip_file(clip)  # made here, before the children time it
                r = run_child(config, clip, mode)
                report["runs"].append(r)
                print(json.dumps({k: r.get(k) for k in ("clip", "mode", "config", "fps", "latency_ms", "startup_s",
                                                          "peak_rss_mb", "error")}), flush=True)
    if args.smoothing:
        report["smoothing"] = smoothing_metrics()
    jsonfile.write(report, args.out.with_suffix(".json"))
    args.out.with_suffix(".md").write_text(write_md(report) + "\n")
    print(args.out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
