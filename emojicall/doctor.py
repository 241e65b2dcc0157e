"""`emojicall doctor`: checks every part the app needs and prints one line each, with the fix for what is
missing. Exit code 0 only when everything needed is there."""
from __future__ import annotations

import argparse
import platform
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError
from .vcam import help_line as virtual_camera_help


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    needed: bool = True

    @property
    def mark(self) -> str:
        return "ok" if self.ok else "FAIL" if self.needed else "warn"


def check_cameras(camera: str) -> Check:
    from .cameras import list_cameras, probe

    if not camera.isdigit():
        size = probe(camera)
        return Check("camera", size is not None, f"video file {camera}" + (f" ({size[0]}x{size[1]})" if size else
                     " gives no frame"), "" if size else "pick a readable video, or a camera with --camera 0")
    cams = list_cameras()
    if not cams:
        where = " (no /dev/video* device; is your user in the `video` group?)" if platform.system() == "Linux" else ""
        return Check("camera", False, f"no camera found{where}",
                     "plug in a webcam or close the app that holds it, then run `emojicall doctor` again")
    listed = ", ".join(f"{c.index}: {c}" for c in cams)
    if camera not in {str(c.index) for c in cams}:
        return Check("camera", False, f"found {listed}, but the settings pick camera {camera}",
                     f"start with `emojicall --camera {cams[0].index}` or pick one under Camera in the tray menu")
    return Check("camera", True, f"found {listed}; using {camera}")


def check_virtual_camera(size: tuple[int, int], fps: float, choice: str = "auto") -> Check:
    from . import vcam

    plan = vcam.describe(choice)
    if platform.system() == "Linux" and choice in ("auto", "v4l2loopback"):
        problem = vcam.linux_problem()
        if problem is not None:
            return Check("virtual camera", False, f"{problem.what} ({plan})", problem.fix)
    from .vcam import VirtualCamSink

    try:
        sink = VirtualCamSink(size, fps, choice=choice)
    except UserError as exc:
        return Check("virtual camera", False, f"{exc.what} ({plan})", exc.fix or virtual_camera_help())
    device, shown_as = sink.device, sink.shown_as
    sink.close()
    return Check("virtual camera", True, f"opens {device} at {size[0]}x{size[1]}; meeting apps list it as "
                 f"{shown_as} ({plan})")


def check_model(model: str) -> Check:
    from . import model_files as mf
    from .classifier import EmotionClassifier
    from .paths import models_root

    try:
        clf = EmotionClassifier(model or None)
    except UserError as exc:
        ready = sorted(p.name for p in models_root().iterdir() if (p / mf.META).is_file() and (p / mf.TFLITE).is_file())
        other = f"use one that is ready: `emojicall --model {ready[0]}` (ready: {', '.join(ready)}), or " \
            if ready else ""
        return Check("model", False, str(exc).split(": ")[0] + f" ({model or mf.DEFAULT_MODEL})",
                     f"{other}train it: `emojicall train --arch cnn --out models/{model or mf.DEFAULT_MODEL}`")
    acc = clf.meta.get("val_accuracy")
    return Check("model", True, f"{clf.model_dir} ({clf.meta.get('arch', '?')}"
                 + (f", validation accuracy {acc:.3f})" if isinstance(acc, float) else ")"))


def check_packs(packs: list[str]) -> list[Check]:
    from .emojis import EmojiPack
    from .paths import bundled_emojis

    checks = []
    for folder, needed in [(str(bundled_emojis()), True)] + [(p, False) for p in packs]:
        label = "emoji pack (bundled)" if needed else f"emoji pack {Path(folder).name}"
        try:
            EmojiPack(folder)
            checks.append(Check(label, True, f"{folder}: 7 images"))
        except UserError as exc:
            fix = "reinstall EmojiCall" if needed else "fix the file named, or pick another pack in the menu"
            checks.append(Check(label, False, str(exc).split(": ")[0] + f": {folder}", fix, needed))
    return checks


def check_detectors(chosen: str) -> list[Check]:
    """Each detector started as the app starts it (Haar's cascade from OpenCV; BlazeFace and MTCNN from their
    LiteRT files in models/); only the chosen one, and Haar that stands in for it, are needed."""
    from .detectors import FALLBACK, NAMES, create_detector

    checks = []
    for name in NAMES:
        try:
            create_detector(name).close()
            checks.append(Check(f"detector {name}", True, "starts" + (" (chosen)" if name == chosen else "")))
        except UserError as exc:
            checks.append(Check(f"detector {name}", False, exc.what, exc.fix or "reinstall EmojiCall (`pip install .`)",
                                needed=name in (chosen, FALLBACK)))
    return checks


def check_tray() -> Check:
    from .tray.backend import tray_backend

    from .tray.host import NO_HOST_FIX, no_tray_host

    tray = tray_backend()
    if not tray.has_menu:
        return Check("tray", False, tray.problem, tray.fix, needed=tray.name is None)
    no_host = no_tray_host()
    if no_host:
        return Check("tray", False, f"pystray uses {tray.name}, but {no_host}", NO_HOST_FIX, needed=False)
    return Check("tray", True, f"pystray uses {tray.name}, with a menu")


def check_preview() -> Check:
    """Tk draws the preview window; without it the app streams anyway, so it is not needed."""
    from .preview import tk_problem

    problem = tk_problem()
    if problem:
        return Check("preview window", False, problem.what, problem.fix, needed=False)
    return Check("preview window", True, "tkinter draws it")


def run_checks(cfg) -> list[Check]:
    return [check_cameras(cfg.camera), check_virtual_camera((cfg.width, cfg.height), cfg.fps, cfg.vcam_backend),
            check_model(cfg.model), *check_packs(cfg.packs), *check_detectors(cfg.detector), check_tray(),
            check_preview()]


def report(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = ["EmojiCall doctor"]
    for c in checks:
        lines.append(f"  {c.mark:<4}  {c.name:<{width}}  {c.detail}")
        if c.fix and not c.ok:
            lines.append(f"  {'':<4}  {'':<{width}}  fix: {c.fix}")
    failed = [c.name for c in checks if not c.ok and c.needed]
    lines.append(f"{len(failed)} needed part(s) missing: {', '.join(failed)}" if failed
                 else "everything needed is there")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from . import settings as st

    p = argparse.ArgumentParser(prog="emojicall doctor", description="Check cameras, virtual camera, model, "
                                "emoji packs, detectors, tray and preview window; print the fix for what is "
                                "missing.")
    p.add_argument("--config", type=Path, help="settings file to check against (default: the app's)")
    p.add_argument("--vcam-backend", choices=("auto", "v4l2loopback", "obs", "unitycapture"),
                   help="check this virtual camera backend instead of the settings' one")
    args = p.parse_args(argv)
    cfg = st.load(args.config, keep_bad=False)  # a check moves no file
    if args.vcam_backend:
        cfg.vcam_backend = args.vcam_backend
    checks = run_checks(cfg)
    print(report(checks))
    return 0 if all(c.ok for c in checks if c.needed) else 1
