"""The one place that turns Settings into working parts: the source, the detector (with the fallback when the
default cannot start), the classifier, the emoji pack, the Pipeline and the sink. `emojicall run`, the tray,
`evaluate --video`, the benches and the tests all build through here; parts passed in are used as they are."""
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


def source(spec: str, width: int | None = None, height: int | None = None, *, realtime: bool = False):
    """A camera is read on its own thread, newest frame only, and reconnects by itself after a glitch or an
    unplug (ResilientSource sends a "camera lost" card meanwhile); a video, image or folder is read in order,
    or, with `realtime`, played at its own rate as a camera would give it (late frames dropped)."""
    return keep_alive(reopener(spec, width, height)(), spec, width, height, realtime=realtime)


def reopener(spec: str, width: int | None = None, height: int | None = None) -> Callable:
    """A function that opens `spec` afresh each call, quietly: what a reconnecting camera calls."""
    from .cameras import quiet_opencv
    from .sources import open_source

    def reopen():
        with quiet_opencv():
            return open_source(spec, width, height)
    return reopen


def keep_alive(opened, spec: str, width: int | None = None, height: int | None = None, *, realtime: bool = False):
    """`opened` (already open) with its reconnecting reader started, if it is a camera, or its real-time clock,
    if asked. `emojicall run` opens the source first (a wrong path is the likeliest mistake), loads the models,
    and only then starts reading."""
    from .resilient import ResilientSource
    from .sources import RealtimeSource

    if opened.live:
        return ResilientSource(reopener(spec, width, height), first=opened)
    return RealtimeSource(opened) if realtime else opened


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
    except Exception as exc:  # noqa: BLE001 - a broken model file or runtime must not stop the app
        if not fallback or name == FALLBACK:
            raise
        warn(f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}; using {FALLBACK}")
        return factory(FALLBACK), FALLBACK


def load_classifier(settings: Settings, backend: str = "tflite"):
    from .classifier import EmotionClassifier

    classifier = EmotionClassifier(settings.model or None, backend=backend, tta=settings.tta)
    if settings.calibration:
        from . import calibration

        calibration.apply(classifier)
    if settings.auto_calibration:
        from .autocal import AutoCalibration

        classifier.auto = AutoCalibration(classifier.prior)
    return classifier


def emoji_compositor(settings: Settings, pack=None, warn: Warn | None = None):
    from .compositor import Compositor

    pack = pack if pack is not None else load_pack(settings.pack, warn)
    return Compositor(pack, style=settings.style, show_label=settings.show_label)


def pipeline(settings: Settings, *, detector=None, classifier=None, compositor=None, live: bool = False,
             warn: Warn = log.warning, detector_fallback: bool = True, backend: str = "tflite"):
    """The app's chain from one Settings. The quick checks (settings, pack) come before the slow loads; a part
    passed in (a test's or bench's detector, the tray's background-loaded ones) is used as it is."""
    import cv2

    from .flags import check
    from .pipeline import Pipeline

    # OpenCV's thread pool wakes both cores for resizes and colour conversions of a few hundred pixels: on one
    # thread the 720p close-up played as a 30 fps camera took 24-25% of one core against 28-31% (MTCNN, fernet_duo).
    cv2.setNumThreads(1)
    check(settings)
    compositor = compositor if compositor is not None else emoji_compositor(settings)
    classifier = classifier if classifier is not None else load_classifier(settings, backend)
    if detector is None:
        detector, _ = load_detector(settings.detector, fallback=detector_fallback, warn=warn)
    try:
        return Pipeline(detector, classifier, compositor, detect_every=settings.detect_every,
                        overlay=settings.overlay, live=live)
    except BaseException:
        detector.close()
        raise


def sink(output: str, size: tuple[int, int], fps: float, settings: Settings):
    """Where `--output` sends frames: the virtual camera, a window, nothing, or a video file."""
    if output == "virtual":
        from .vcam import VirtualCamSink

        return VirtualCamSink(size, fps, choice=settings.vcam_backend)
    from .sinks import open_sink

    return open_sink(output, size, fps)


def _device_of(spec: str) -> str | None:
    if spec.isdigit() and platform.system() == "Linux":
        return f"/dev/video{spec}"
    return spec if spec.startswith("/dev/") else None


def check_not_feedback(source: str, output: str) -> None:
    """Refuse EmojiCam as the camera (the virtual camera would film itself)."""
    from .vcam import NAME as CAM_LABEL, find_labelled_device

    device = _device_of(source)
    emojicam = find_labelled_device() if platform.system() == "Linux" else None
    if device and emojicam and os.path.realpath(device) == os.path.realpath(emojicam):
        raise UserError(f"{source} is the {CAM_LABEL} virtual camera itself",
                        "pick your real camera (`emojicall doctor` lists them)")
    # An output that is an input: outputs.plan, which resolves paths that do not exist yet too.
