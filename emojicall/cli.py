"""`emojicall` command line: wires stages together, turns UserError into one line and a non-zero exit."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import model_files as mf
from .errors import UserError

# Nothing heavy at module level: the tray blocks SIGINT/SIGTERM before any thread exists, and numpy (OpenBLAS)
# and OpenCV start threads when imported (a SIGTERM then hit one of those and killed the tray uncleanly).


# Subcommands that own their flags (argparse lives in their module; they are imported only when run).
_DELEGATED = {"tray": ("emojicall.tray.app", "start the tray icon and stream to the EmojiCam virtual camera"),
              "doctor": ("emojicall.doctor", "check cameras, virtual camera, models and emoji packs"),
              "report": ("emojicall.report", "summarise an --events file: time per emotion per face, a timeline"),
              "desktop-entry": ("emojicall.desktop", "add EmojiCall to the applications menu (Linux)")}
_VERBOSITY = {"-v": 1, "--verbose": 1, "-vv": 2, "-q": -1, "--quiet": -1}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbosity = sum(_VERBOSITY.get(a, 0) for a in argv)  # -v / -q go anywhere on the line
    argv = [a for a in argv if a not in _VERBOSITY]
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["tray", *argv]  # `emojicall` alone is the tray app
    from . import logs

    # The tray's user never sees stderr: it also logs to a rotating file in the user log folder.
    logs.setup(verbosity, log_file=argv[0] == "tray")
    try:
        if argv[0] in _DELEGATED:
            import importlib

            return importlib.import_module(_DELEGATED[argv[0]][0]).main(argv[1:]) or 0
        args = _parser().parse_args(argv)
        if args.command is None:
            _parser().print_help()
            return 0
        return args.func(args) or 0
    except UserError as exc:
        print(f"emojicall: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(prog="emojicall", description="Emoji overlay for your webcam, as a virtual camera.",
                                epilog="-v / -vv more detail on stderr, -q errors only (anywhere on the line)")
    p.add_argument("--version", action="version", version=f"emojicall {__version__}")
    sub = p.add_subparsers(dest="command")
    for name, (_, help_text) in _DELEGATED.items():
        sub.add_parser(name, help=help_text, add_help=False)

    r = sub.add_parser("run", help="process a camera, video or images and send the result somewhere")
    r.add_argument("--camera", "--source", dest="camera", default="0",
                   help="camera index, video file, image or folder, or 'demo' (default 0)")
    r.add_argument("--detector", help="mtcnn (default; haar if TensorFlow cannot load) | haar (no TensorFlow, "
                                      "less memory, faster start)")
    r.add_argument("--output", default="virtual", help="virtual | window | none | FILE.mp4 (default virtual)")
    r.add_argument("--max-frames", type=int, help="stop after N frames")
    r.add_argument("--model", help="model folder or name under models/ (default: fernet_duo)")
    r.add_argument("--backend", default="tflite", help="classifier runtime: tflite | keras")
    r.add_argument("--tta", action=argparse.BooleanOptionalAction, default=mf.APP_TTA,
                   help="also classify each face's mirror image and average: +1.6 points on PublicTest for "
                        "2x classifier work (~0.5 ms a face); on by default (fernet_duo holds the mirror view "
                        "itself: no effect there)")
    r.add_argument("--emoji-dir", type=Path, help="folder with angry.png ... neutral.png (RGBA) to use instead")
    r.add_argument("--style", default="emoji", help="emoji (over the face) | badge (beside it) | label (text)")
    r.add_argument("--show-label", action="store_true", help="also write the emotion's name above each face")
    r.add_argument("--mirror", action="store_true", help="flip left-right (meeting apps mirror the self-view already)")
    r.add_argument("--detect-every", type=int, default=5,
                   help="run the detector every N frames, optical-flow tracking between (default 5)")
    r.add_argument("--vcam-backend", default="auto", help="auto | v4l2loopback | obs | unitycapture: where "
                   "--output virtual publishes (auto: the one that shows as EmojiCam first; `emojicall doctor`)")
    r.add_argument("--events", type=Path, help="also write each frame's faces, boxes and emotion scores here: "
                   "FILE.jsonl (one JSON object a frame) or FILE.csv (a row a face and frame); "
                   "`emojicall report FILE` summarises it")
    r.add_argument("--width", type=int, default=1280, help="camera capture width (cameras only)")
    r.add_argument("--height", type=int, default=720, help="camera capture height (cameras only)")
    r.set_defaults(func=_run)

    t = sub.add_parser("train", help="train an emotion model on FER-2013")
    t.add_argument("--arch", required=True, help="mlp | cnn | fernet | fernet_l")
    t.add_argument("--data", type=Path, help="fer2013.npz, Kaggle's fer2013.csv, or a train/ test/ folder")
    t.add_argument("--out", type=Path, required=True, help="model folder to write, e.g. models/cnn")
    t.add_argument("--epochs", type=int, default=60)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--seed", type=int, default=1234)
    t.add_argument("--val-fraction", type=float, default=0.1,
                   help="share of train held out for early stopping (0: fit on all of it, keep the last epoch)")
    t.add_argument("--patience", type=int, default=10, help="early stop after this many epochs without gain")
    t.add_argument("--label-smoothing", type=float, help="default: 0.1 for fernet, 0 for mlp and cnn")
    t.add_argument("--size", type=int, help="input size in pixels (default: the architecture's, 44 for fernet)")
    t.add_argument("--aug", dest="aug_policy", help="shift (flip + shift, mlp/cnn default) | affine "
                   "(flip, rotation, zoom, shift, brightness/contrast: fernet default) | webcam (affine with the "
                   "framing jitter real detector boxes have, plus blur, noise, JPEG, gamma and low light)")
    t.add_argument("--soft-targets", type=float, default=0.0,
                   help="weight of FER+'s 10-annotator vote shares mixed into the labels (0-1; fernet_rw: 0.3, 0.1)")
    t.add_argument("--degrade-p", type=float, default=None,
                   help="with --aug webcam: share of faces each degradation hits (default 0.35)")
    t.add_argument("--teacher", action="append", default=[], metavar="MODEL",
                   help="distil from this model (repeat for an ensemble); their clean-image answers become targets")
    t.add_argument("--distill", type=float, default=0.0,
                   help="weight of the teachers' probabilities in the targets (0-1)")
    t.add_argument("--class-weight", help="none | sqrt | balanced: weight rare classes (disgust) up "
                   "(default: sqrt for fernet, none for mlp and cnn)")
    t.add_argument("--mixup", type=float, help="mixup Beta(a, a) strength, 0 = off (default 0)")
    t.add_argument("--optimizer", help="adam | adamw | sgd (Nesterov) (default: adamw for fernet, else adam)")
    t.add_argument("--weight-decay", type=float, help="decoupled weight decay (default: 0.05 for fernet, else 0)")
    t.add_argument("--quantize", default="none", help="runtime model.tflite: none | dynamic-int8 | float16 "
                   "(model.keras stays float; measure with bench/classifier.py --quant first)")
    t.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                   help="random flip and shift (default: on for CNNs, off for the MLP)")
    t.add_argument("--limit", type=int, help="train on the first N images only (smoke tests)")
    t.add_argument("--resume", action="store_true", help="continue from the folder's checkpoint")
    t.add_argument("--init", type=Path, help="start from this saved model's weights with a fresh schedule "
                   "(warm restart; same architecture)")
    t.add_argument("--no-checkpoint", dest="keep_checkpoint", action="store_false",
                   help="do not keep the resumable checkpoint (saves space for big models)")
    t.set_defaults(func=_train)

    e = sub.add_parser("evaluate", help="score a model on a FER-2013 split, or the app's chain on labelled video")
    e.add_argument("--model", help="model folder or name under models/ (default: the app's default model)")
    e.add_argument("--data", type=Path, help="fer2013.npz, fer2013.csv or folder (default: ../shared copy)")
    e.add_argument("--split", default="publictest", help="train | publictest | privatetest | test")
    e.add_argument("--labels", default="fer2013", help="fer2013 | ferplus (FER+ 10-annotator majority labels, "
                                                       "../shared/data/ferplus/ferplus.npz)")
    e.add_argument("--video", type=Path, help="LABELS.csv (columns file,emotion[,start,end,split]): run each clip "
                                              "through the app's chain and score the emoji shown")
    e.add_argument("--clip-split", help="with --video: only the rows whose split column is this (e.g. holdout)")
    e.add_argument("--detector", help="with --video: the detector to run (default: the app's)")
    e.add_argument("--backend", default="tflite", help="tflite (the app's runtime) | keras")
    e.add_argument("--limit", type=int, help="score the first N images only")
    e.add_argument("--json", type=Path, help="write the scores as JSON here")
    e.add_argument("--figures", type=Path, help="write confusion-matrix and training-curve PNGs here")
    e.add_argument("--tta", action="store_true", help="average each face with its mirror image (2x the work; "
                                                      "--video always runs the app's setting)")
    e.set_defaults(func=_evaluate)
    return p


def _run(args) -> int:
    import signal
    import threading

    stop = threading.Event()

    def on_signal(*_):  # Ctrl-C / SIGTERM: finish the frame in hand, then release devices and the file
        if stop.is_set():
            raise KeyboardInterrupt  # a second one: the user means it
        stop.set()

    # First of all: a signal during the seconds of start-up must still release what was opened.
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        handlers = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _stream(args, stop)
    except KeyboardInterrupt:
        return 130
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def _run_settings(args):
    from .detectors import DEFAULT
    from .settings import Settings

    return Settings(camera=args.camera, width=args.width, height=args.height, detector=args.detector or DEFAULT,
                    style=args.style, pack=str(args.emoji_dir) if args.emoji_dir else "", model=args.model or "",
                    mirror=args.mirror, show_label=args.show_label, tta=args.tta, detect_every=args.detect_every,
                    vcam_backend=args.vcam_backend)


def _stream(args, stop) -> int:
    import contextlib
    import logging

    from . import build
    from .instance import InstanceLock
    from .sinks import NullSink, open_sink
    from .sources import open_source
    from .stream import Stream

    settings = _run_settings(args)
    build.check(settings, {"camera": "camera", "width": "width", "height": "height"})
    build.check_not_feedback(args.camera, args.output)
    with contextlib.ExitStack() as owned:
        if args.output == "virtual":  # one EmojiCall at a time may hold the camera and EmojiCam
            owned.enter_context(InstanceLock())
        source = open_source(args.camera, args.width, args.height)  # first: a wrong path is the likeliest
        owned.callback(lambda: source.close())
        failures = []
        stream = Stream(NullSink(), stop_when_sink_fails=True,
                        on_problem=lambda area, what, fix: failures.append(f"{area}: {what}" + (f": {fix}" if fix else "")))
        owned.callback(stream.close)  # sink and pipeline, each guarded
        stream.pipeline = build.build_pipeline(settings, warn=logging.getLogger(__name__).warning,
                                               detector_fallback=args.detector is None, backend=args.backend)
        source = build.keep_alive(source, args.camera, args.width, args.height)
        stream.sink = open_sink(args.output, source.size, source.fps, settings.vcam_backend)
        stream.follow(source)
        stream.mirror = settings.mirror
        stream.pace_fps = source.fps if args.output == "virtual" and not source.live else None
        if args.events is not None:
            import time

            from .events import EventWriter

            events = owned.enter_context(EventWriter(args.events, source.fps, inputs=[args.camera]))
            stream.on_frame = events.on_frame(time.monotonic if source.live else None)
        stats = stream.run(source.read_frame, stop=stop, max_frames=args.max_frames)
    for line in failures:
        print(f"emojicall: {line}", file=sys.stderr)
    print(f"{stats.frames} frames processed, {stats.faces} faces found ({stream.pipeline.detector.name}), "
          f"{stats.fps:.1f} fps mean")
    if stream.sink_failed:
        return 1
    if args.output not in ("virtual", "window", "none"):
        print(f"wrote {Path(args.output).resolve()}")
    return 0


def _data(path: Path | None) -> Path:
    from .training.data import default_data_path

    return path if path is not None else default_data_path()


def _train(args) -> int:
    from .training.train import train

    train(args.arch, _data(args.data), args.out, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
          seed=args.seed, val_fraction=args.val_fraction, patience=args.patience, augment=args.augment,
          label_smoothing=args.label_smoothing,
          limit=args.limit, resume=args.resume, keep_checkpoint=args.keep_checkpoint, size=args.size,
          aug_policy=args.aug_policy, class_weight=args.class_weight, mixup=args.mixup, optimizer=args.optimizer,
          weight_decay=args.weight_decay, quantize=args.quantize, init=args.init, soft_targets=args.soft_targets,
          teachers=tuple(args.teacher), distill=args.distill, degrade_p=args.degrade_p)
    return 0


def _evaluate(args) -> int:
    if args.video is not None:
        from .training.video_eval import evaluate_video

        evaluate_video(args.video, detector=args.detector, model=args.model, split=args.clip_split,
                       json_out=args.json, figures=args.figures)
        return 0
    from .training.evaluate import evaluate

    evaluate(args.model, _data(args.data), args.split, backend=args.backend, limit=args.limit,
             json_out=args.json, figures=args.figures, tta=args.tta, label_set=args.labels)
    return 0
