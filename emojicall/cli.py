"""`emojicall` command line: wires stages together, turns UserError into one line and a non-zero exit."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import UserError

# Nothing heavy at module level: the tray blocks SIGINT/SIGTERM before any thread exists, and numpy (OpenBLAS)
# and OpenCV start threads when imported (a SIGTERM then hit one of those and killed the tray uncleanly).


# Subcommands that own their flags (argparse lives in their module; they are imported only when run).
_DELEGATED = {"tray": ("emojicall.tray.app", "start the tray icon and stream to the EmojiCam virtual camera"),
              "doctor": ("emojicall.doctor", "check cameras, virtual camera, models and emoji packs"),
              "report": ("emojicall.report", "summarise an --events file: time per emotion per face, a timeline"),
              "desktop-entry": ("emojicall.desktop", "add EmojiCall to the applications menu (Linux)"),
              "calibrate": ("emojicall.calibrate_command", "record ~3 s of your neutral face so it reads neutral")}
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
    from .flags import add_stream_flags

    p = argparse.ArgumentParser(prog="emojicall", description="Emoji overlay for your webcam, as a virtual camera.",
                                epilog="-v / -vv more detail on stderr, -q errors only (anywhere on the line)")
    p.add_argument("--version", action="version", version=f"emojicall {__version__}")
    sub = p.add_subparsers(dest="command")
    for name, (_, help_text) in _DELEGATED.items():
        sub.add_parser(name, help=help_text, add_help=False)

    r = sub.add_parser("run", help="process a camera, video or images and send the result somewhere")
    add_stream_flags(r)
    r.add_argument("--output", default="virtual", help="virtual | window | none | FILE.mp4 (H.264) | FILE.webm (VP9) "
                                                       "(default virtual)")
    r.add_argument("--overwrite", action="store_true", help="replace an existing --output or --events file (only "
                   "once the run has finished: a failed run leaves the old file)")
    r.add_argument("--realtime", action="store_true", help="play a video file as a live camera would give it: "
                   "at its own frame rate, frames not taken in time dropped (rehearse with a recorded clip)")
    r.add_argument("--max-frames", type=int, help="stop after N frames")
    r.add_argument("--backend", default="tflite", help="classifier runtime: tflite | keras")
    r.add_argument("--events", type=Path, help="also write each frame's faces, boxes and emotion scores here: "
                   "FILE.jsonl (one JSON object a frame) or FILE.csv (a row a face and frame); "
                   "`emojicall report FILE` summarises it")
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
    e.add_argument("--calibrate", action="store_true", help="with --video: calibrate each `actor` on the first half "
                   "of their first neutral row (scored on its second half)")
    e.add_argument("--auto-calibration", action=argparse.BooleanOptionalAction, help="with --video: learn each "
                   "`actor`'s calm baseline across their rows in order, as one longer call (default: the app's setting)")
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
        import logging

        logging.getLogger(__name__).debug("Ctrl-C and SIGTERM now stop the run cleanly")
    try:
        return _stream(args, stop)
    except KeyboardInterrupt:
        return 130
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def _stream(args, stop) -> int:
    import contextlib
    import logging

    from . import build
    from .flags import settings_from
    from .instance import InstanceLock
    from .sources import open_source
    from .stream import Stream

    settings = settings_from(args)
    build.check_not_feedback(settings.camera, args.output)
    if args.max_frames is not None and args.max_frames < 1:
        raise UserError(f"--max-frames {args.max_frames} is not a number of frames", "give 1 or more")
    # Every output checked against every input and each other before anything opens (outputs.py).
    from . import outputs

    plan = outputs.plan(settings.camera, args.output, args.events, overwrite=args.overwrite)
    failures = []
    with contextlib.ExitStack() as owned:
        if args.output == "virtual":  # one EmojiCall at a time may hold the camera and EmojiCam
            owned.enter_context(InstanceLock())
        opened = open_source(settings.camera, settings.width, settings.height)  # first: a wrong path is likeliest
        owned.callback(opened.close)
        pipeline = build.pipeline(settings, warn=logging.getLogger(__name__).warning,
                                  detector_fallback=args.detector is None, backend=args.backend)
        owned.callback(pipeline.close)
        # A file sent to the virtual camera plays at its own rate, as a camera would.
        source = build.keep_alive(opened, settings.camera, settings.width, settings.height,
                                  realtime=args.realtime or args.output == "virtual")
        owned.callback(source.close)
        sink = build.sink(plan.video or args.output, source.size, args.fps or source.fps, settings)
        stream = Stream(sink, source=source, pipeline=pipeline, mirror=settings.mirror, stop_when_sink_fails=True,
                        on_problem=lambda area, problem: failures.append(f"{area}: {problem}"))
        owned.callback(stream.close)
        if args.events is not None:
            import time

            from .events import EventWriter

            events = owned.enter_context(EventWriter(plan.events, source.fps))
            stream.add_listener(events.on_frame(time.monotonic if source.live else None))
        stats = stream.run(stop=stop, max_frames=args.max_frames)
    failures += plan.errors()  # outputs that failed as they were finished (and were removed)
    for line in failures:
        print(f"emojicall: {line}", file=sys.stderr)
    print(f"{stats.summary()}; {stats.faces} faces found ({pipeline.detector.name})")
    if stream.sink_failed or failures:
        return 1
    if plan.video is not None:
        print(f"wrote {plan.video.target}")
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
    if args.figures is not None:
        from .report import require_matplotlib

        require_matplotlib("evaluate --figures")
    if args.video is not None:
        from .training.video_eval import evaluate_video

        evaluate_video(args.video, detector=args.detector, model=args.model, split=args.clip_split,
                       json_out=args.json, figures=args.figures, calibrate=args.calibrate,
                       auto=args.auto_calibration)
        return 0
    from .training.evaluate import evaluate

    evaluate(args.model, _data(args.data), args.split, backend=args.backend, limit=args.limit,
             json_out=args.json, figures=args.figures, tta=args.tta, label_set=args.labels)
    return 0
