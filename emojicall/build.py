"""The one place that turns Settings into working parts: the camera or file source, the detector (with the
fallback when the default cannot start), the classifier, the emoji pack and the Pipeline. `emojicall run` and the
tray both build through here."""
from __future__ import annotations

import logging
import os
import platform
from pathlib import Path
from typing import Callable

from .errors import UserError
from .settings import Settings

log = logging.getLogger(__name__)
Warn = Callable[[str], None]


def open_camera(spec: str, width: int | None = None, height: int | None = None):
    """A camera is read on its own thread, newest frame only, and reconnects by itself after a glitch or an
    unplug (ResilientSource sends a "camera lost" card meanwhile); a video, image or folder is read in order."""
    return keep_alive(_reopen(spec, width, height)(), spec, width, height)


def _reopen(spec, width, height):
    from .cameras import quiet_opencv
    from .sources import open_source

    def reopen():
        with quiet_opencv():
            return open_source(spec, width, height)
    return reopen


def keep_alive(source, spec: str, width: int | None = None, height: int | None = None):
    """`source` (already open) with its reconnecting reader started, if it is a camera. `emojicall run` opens
    the camera first (a wrong index is the likeliest mistake), loads the models, and only then starts reading."""
    from .resilient import ResilientSource

    return ResilientSource(_reopen(spec, width, height), first=source) if source.live else source


def load_pack(folder: str | Path | None, warn: Warn | None = None):
    """The user's pack, or the bundled one; a broken user pack is reported to `warn` (naming the file), or
    raised when there is no `warn`."""
    from .emojis import EmojiPack, bundled_pack

    if not folder:
        return bundled_pack()
    try:
        return EmojiPack(folder)
    except UserError as exc:
        if warn is None:
            raise
        warn(f"{exc}; using the bundled pack")
        return bundled_pack()


def load_detector(name: str, *, fallback: bool, warn: Warn, factory: Callable | None = None):
    """(detector, its name): `name`, or with `fallback` the fallback detector (and one line to `warn`) when it
    cannot start. An explicit choice that cannot start is the caller's one-line error."""
    from .detectors import FALLBACK, create_detector

    factory = factory or create_detector
    try:
        return factory(name), name
    except Exception as exc:  # noqa: BLE001 - a broken TensorFlow install must not stop the app
        if not fallback or name == FALLBACK:
            raise
        warn(f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}; using {FALLBACK}")
        return factory(FALLBACK), FALLBACK


def load_classifier(settings: Settings, backend: str = "tflite"):
    from .classifier import EmotionClassifier

    return EmotionClassifier(settings.model or None, backend=backend, tta=settings.tta)


def make_pipeline(settings: Settings, detector, classifier, pack=None, compositor=None):
    from .compositor import Compositor
    from .pipeline import Pipeline

    compositor = compositor or Compositor(pack, style=settings.style, show_label=settings.show_label)
    return Pipeline(detector, classifier, compositor, detect_every=settings.detect_every,
                    overlay=settings.overlay)


def build_pipeline(settings: Settings, *, warn: Warn = log.warning, detector_fallback: bool = True,
                   backend: str = "tflite"):
    """Everything of a Pipeline from one Settings; the quick checks (pack, style) come before the slow loads."""
    check(settings)
    pack = load_pack(settings.pack, None)
    classifier = load_classifier(settings, backend)
    detector, _ = load_detector(settings.detector, fallback=detector_fallback, warn=warn)
    try:
        return make_pipeline(settings, detector, classifier, pack)
    except BaseException:
        detector.close()
        raise


def check(settings: Settings, flag_names: dict[str, str] | None = None) -> None:
    """Settings the app cannot use, as one line naming the flag."""
    bad = settings.problems()
    if bad:
        fields, why = bad[0]
        flag = (flag_names or {}).get(fields[0], fields[0].replace("_", "-"))
        raise UserError(why, f"fix the --{flag} flag")


def _device_of(spec: str) -> str | None:
    if spec.isdigit() and platform.system() == "Linux":
        return f"/dev/video{spec}"
    return spec if spec.startswith("/dev/") else None


def check_not_feedback(source: str, output: str) -> None:
    """Refuse an output that is the input (the input would be truncated) and EmojiCam as the camera (the
    virtual camera would film itself)."""
    from .sinks import CAM_LABEL, find_labelled_device

    device = _device_of(source)
    emojicam = find_labelled_device() if platform.system() == "Linux" else None
    if device and emojicam and os.path.realpath(device) == os.path.realpath(emojicam):
        raise UserError(f"{source} is the {CAM_LABEL} virtual camera itself",
                        "pick your real camera (`emojicall doctor` lists them)")
    if output in ("virtual", "window", "none") or source == "demo":
        return
    src, out = Path(source), Path(output)
    if src.exists() and out.exists() and (os.path.samefile(src, out) or
                                          (src.is_dir() and out.resolve().is_relative_to(src.resolve()))):
        raise UserError(f"--output {output} is the input {source}", "write the output to another file")
