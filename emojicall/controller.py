"""Runs camera -> pipeline -> virtual camera on a worker thread for the tray app, with no GUI in it so every
menu action can be tested without a tray.

Changes are queued and applied between two frames: the camera and the virtual camera stay open. The virtual
camera gets frames at a steady, capped rate even while paused or without a camera (a still card), because
call apps treat a camera that stops delivering as broken.
"""
from __future__ import annotations

import logging
import os
import platform
import queue
import threading
import time
from typing import Callable, NamedTuple

import cv2
import numpy as np

from . import cards
from .cameras import NO_CAMERA_FIX, quiet_opencv
from .compositor import STYLES, Compositor
from .detectors import NAMES as DETECTORS
from .detectors import FALLBACK, create_detector
from .detectors.base import as_bgr
from .emojis import EmojiPack, bundled_pack
from .errors import UserError
from .pipeline import RateLimitedLog
from .settings import Settings
from .sinks import NullSink, Sink, VirtualCamSink, WindowSink, virtual_camera_help
from .sources import Source, open_source

log = logging.getLogger(__name__)
PAUSED_TEXT = "EmojiCam is paused"
NO_CAMERA_TEXT = "No camera\nEmojiCam is waiting for one"
ERROR_TEXT = "EmojiCam could not make this frame\n(details in the log)"
RETRY_S = 3.0  # how often a missing camera is looked for again


class Problem(NamedTuple):
    what: str
    fix: str = ""

    def __str__(self):
        return f"{self.what}: {self.fix}" if self.fix else self.what

    @classmethod
    def from_error(cls, exc: BaseException) -> "Problem":
        """UserError messages read 'what: fix'; split at the first ': ' outside parentheses."""
        text, depth = str(exc), 0
        for i, ch in enumerate(text):
            depth += (ch == "(") - (ch == ")")
            if depth == 0 and text.startswith(": ", i):
                return cls(text[:i], text[i + 2:])
        return cls(text)


def open_camera(spec: str, width: int, height: int) -> Source:
    """A camera is read on its own thread, newest frame only, and reconnects by itself after a glitch or an
    unplug (ResilientSource sends a "camera lost" card meanwhile); a video file is read in order."""
    def reopen() -> Source:
        with quiet_opencv():
            return open_source(spec, width, height)

    source = reopen()
    if not source.live:
        return source
    from .resilient import ResilientSource

    return ResilientSource(reopen, first=source)


def open_virtual_camera(size: tuple[int, int], fps: float) -> Sink:
    return VirtualCamSink(size, fps)


def open_classifier(model: str):
    from . import model_files as mf
    from .classifier import EmotionClassifier

    return EmotionClassifier(model or None, tta=mf.APP_TTA)


def fit(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale into `size` keeping the aspect ratio, black bars on the short side: call apps show the
    virtual camera at one fixed format, and a stretched face looks wrong."""
    h, w = frame.shape[:2]
    if (w, h) == size:
        return frame
    scale = min(size[0] / w, size[1] / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    small = frame if (nw, nh) == (w, h) else \
        cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    out = np.zeros((size[1], size[0], 3), np.uint8)
    x, y = (size[0] - nw) // 2, (size[1] - nh) // 2
    out[y:y + nh, x:x + nw] = small
    return out


def display_problem() -> str | None:
    """Why a preview window cannot open here, or None. Checked first because OpenCV's Qt window aborts the
    whole process (not an exception) when there is no display."""
    system = platform.system()
    if system == "Darwin":  # HighGUI windows must live on the main thread, which the tray owns there
        return "no preview window on macOS while the tray runs: use `emojicall run --output window`"
    if system != "Linux":
        return None
    display = os.environ.get("DISPLAY")
    if not display:
        return "no display for a preview window (DISPLAY is not set): start EmojiCall from your desktop session"
    try:
        import Xlib.display

        Xlib.display.Display(display).close()
    except ImportError:
        return None
    except Exception as exc:  # noqa: BLE001 - Xlib raises several types; all mean "no usable display"
        return f"cannot reach display {display} ({type(exc).__name__}): start EmojiCall from your desktop session"
    return None


def _virtual_camera_problem(exc: BaseException) -> Problem:
    """Worded as `emojicall doctor` words it: on Linux the v4l2loopback diagnosis says what exactly is off."""
    if platform.system() == "Linux":
        from .doctor import v4l2loopback_check

        check = v4l2loopback_check()
        if check is not None:
            return Problem(check.detail, check.fix)
    if isinstance(exc, UserError):
        return Problem.from_error(exc)
    return Problem(f"cannot open it ({exc})", virtual_camera_help())


class Controller:
    def __init__(self, settings: Settings, *, source_factory: Callable[[str, int, int], Source] = open_camera,
                 sink_factory: Callable[[tuple[int, int], float], Sink] = open_virtual_camera,
                 detector_factory: Callable[[str], object] = create_detector,
                 classifier_factory: Callable[[str], object] = open_classifier):
        self.settings = settings
        self.size = (settings.width, settings.height)
        self._source_factory, self._sink_factory = source_factory, sink_factory
        self._detector_factory, self._classifier_factory = detector_factory, classifier_factory
        self.source: Source | None = None
        self.sink: Sink | None = None
        self.pipeline = None
        self.paused = False
        self.preview = False
        self.fps = 0.0
        self.frames = 0
        self.faces: list = []
        self.detector_name: str | None = None   # the detector in use (a requested one may still be loading)
        self._preview_sink: WindowSink | None = None
        self._classifier = None
        self._problems: dict[str, Problem] = {}
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._det_gen = 0
        self._retry_at = 0.0
        self._thread: threading.Thread | None = None
        self._cards: dict[str, np.ndarray] = {}
        self._classifier_lock = threading.Lock()
        self._interval = 0.0
        self._last_sent = 0.0
        self._faults = RateLimitedLog()
        self.compositor = Compositor(self._load_pack(settings.pack), style=settings.style)

    # --- state for the tray -------------------------------------------------------------------------
    @property
    def problems(self) -> dict[str, Problem]:
        with self._lock:
            return dict(self._problems)

    @property
    def main_label(self) -> str | None:
        faces = [f for f in self.faces if f.label is not None]
        return max(faces, key=lambda f: f.area).label if faces else None

    @property
    def device(self) -> str | None:
        return getattr(self.sink, "device", None)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _problem(self, area: str, problem: Problem | None) -> None:
        with self._lock:
            if problem is None:
                self._problems.pop(area, None)
            elif self._problems.get(area) != problem:
                self._problems[area] = problem
                log.warning("%s: %s", area, problem)

    # --- control, from any thread -------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="emojicam", daemon=True)
        self._thread.start()
        self._load_detector(self.settings.detector)

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop and release camera, virtual camera and preview; True when the worker has ended."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def set_overlay(self, on: bool) -> None:
        self.settings.overlay = bool(on)
        self._post(self._sync_pipeline)

    def set_mirror(self, on: bool) -> None:
        self.settings.mirror = bool(on)
        self._post(self._sync_pipeline)

    def set_style(self, style: str) -> None:
        if style not in STYLES:
            raise UserError(f"unknown style '{style}': use one of {', '.join(STYLES)}")
        self.settings.style = style
        self._post(lambda: setattr(self.compositor, "style", style))

    def set_pack(self, folder: str) -> None:
        """'' is the bundled pack; a folder is added to the packs offered. A broken folder is reported and the
        current pack stays."""
        try:
            pack = EmojiPack(folder) if folder else bundled_pack()
        except UserError as exc:
            self._problem("emoji pack", Problem.from_error(exc))
            return
        self._problem("emoji pack", None)
        if folder and folder not in self.settings.packs:
            self.settings.packs.append(folder)
        self.settings.pack = folder
        self._post(lambda: setattr(self.compositor, "pack", pack))

    def set_detector(self, name: str) -> None:
        if name not in DETECTORS:
            raise UserError(f"unknown detector '{name}': use one of {', '.join(DETECTORS)}")
        self.settings.detector = name
        self._load_detector(name)

    def set_camera(self, spec: str | int) -> None:
        self.settings.camera = str(spec)
        self._post(self._reopen_source)

    def pause(self) -> None:
        self.paused = True
        self._post(self._close_source)

    def resume(self) -> None:
        self.paused = False
        self._post(self._reopen_source)

    def set_preview(self, on: bool) -> None:
        self.preview = bool(on)
        self._post(self._sync_preview)

    def _post(self, fn: Callable[[], None]) -> None:
        self._commands.put(fn)

    # --- loading (off the worker, so a slow load never stalls the stream) ---------------------------
    def _load_detector(self, name: str) -> None:
        with self._lock:
            self._det_gen += 1
            gen = self._det_gen
        threading.Thread(target=self._loader, args=(name, gen), name=f"load-{name}", daemon=True).start()

    def _loader(self, name: str, gen: int) -> None:
        with self._classifier_lock:
            if self._classifier is None and "model" not in self.problems:
                try:
                    self._classifier = self._classifier_factory(self.settings.model)
                except UserError as exc:
                    what, fix = Problem.from_error(exc)
                    self._problem("model", Problem(f"{what}; frames go out without emoji", fix))
        try:
            detector = self._detector_factory(name)
        except Exception as exc:  # noqa: BLE001 - an import or model failure must leave the stream running
            if self.detector_name is None and name != FALLBACK:  # nothing running yet: faces still need finding
                log.warning("%s cannot start (%s): using %s", name, exc, FALLBACK)
                self.settings.detector = FALLBACK  # the menu shows what runs
                return self._loader(FALLBACK, gen)
            self._problem("detector", Problem(f"cannot start {name} ({exc})",
                                              f"keeping {self.detector_name}; run `emojicall doctor`"))
            return
        if gen != self._det_gen or self._stop.is_set():  # a newer choice came in meanwhile
            detector.close()
            return
        self._post(lambda: self._install_detector(detector, name, gen))

    def _install_detector(self, detector, name: str, gen: int) -> None:
        if gen != self._det_gen or self._classifier is None:
            detector.close()
            return
        if self.pipeline is None:
            from .pipeline import Pipeline

            self.pipeline = Pipeline(detector, self._classifier, self.compositor)
        else:
            self.pipeline.set_detector(detector)
        self._sync_pipeline()
        self.detector_name = name
        self._problem("detector", None)

    def _load_pack(self, folder: str) -> EmojiPack:
        if folder:
            try:
                return EmojiPack(folder)
            except UserError as exc:
                what, fix = Problem.from_error(exc)
                self._problems["emoji pack"] = Problem(f"{what}; using the bundled pack", fix)
        return bundled_pack()

    # --- the worker ----------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._open_sink()
            if not self.paused:
                self._open_source()
            period = 1.0 / self.settings.fps
            due = time.monotonic()
            while not self._stop.is_set():
                try:
                    self._apply_commands()
                    frame = self._next_frame()
                except Exception as exc:  # noqa: BLE001 - one bad frame or command must not end the stream
                    self._faults("frame", exc)
                    frame = self._card(ERROR_TEXT)
                self._send(frame)
                due += period
                now = time.monotonic()
                if due < now:  # running behind: no burst to catch up
                    due = now
                self._stop.wait(due - now)
        except Exception:  # noqa: BLE001 - logged; the finally still releases the devices
            log.exception("the EmojiCam worker stopped")
            self._problem("worker", Problem("stopped after an internal error", "quit and start EmojiCall again"))
        finally:
            self._close_source()
            for sink in (self._preview_sink, self.sink):
                if sink is not None:
                    sink.close()
            self._preview_sink = None
            if self.pipeline is not None:
                self.pipeline.close()

    def _apply_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            command()

    def _open_sink(self) -> None:
        try:
            self.sink = self._sink_factory(self.size, self.settings.fps)
        except Exception as exc:  # noqa: BLE001 - UserError or a driver's own error: run on without it
            log.info("virtual camera: %s", exc)
            self._problem("virtual camera", _virtual_camera_problem(exc))
            self.sink = NullSink()

    def _open_source(self) -> None:
        self._retry_at = time.monotonic() + RETRY_S
        try:
            self.source = self._source_factory(self.settings.camera, *self.size)
        except UserError as exc:
            self.source = None
            self._problem("camera", Problem.from_error(exc) if not self.settings.camera.isdigit() else
                          Problem(f"camera {self.settings.camera} gives no picture", NO_CAMERA_FIX))
            return
        self._problem("camera", None)
        self._sync_pipeline()

    def _close_source(self) -> None:
        if self.source is not None:
            source, self.source = self.source, None
            source.close()
        self.faces = []

    def _reopen_source(self) -> None:
        self._close_source()
        if not self.paused:
            self._open_source()

    def _sync_pipeline(self) -> None:
        if self.pipeline is not None:
            self.pipeline.overlay, self.pipeline.mirror = self.settings.overlay, self.settings.mirror
            # A camera frame must never wait for the detector; a file is processed frame by frame.
            self.pipeline.async_detect = bool(self.source is not None and self.source.live)

    def _sync_preview(self) -> None:
        if self.preview and self._preview_sink is None:
            problem = display_problem()
            if problem:
                self._problem("preview", Problem.from_error(problem))
                self.preview = False
                return
            self._preview_sink = WindowSink("EmojiCam preview")
        elif not self.preview and self._preview_sink is not None:
            self._preview_sink.close()
            self._preview_sink = None
        self._problem("preview", None)

    def _card(self, text: str) -> np.ndarray:
        if text not in self._cards:
            self._cards[text] = cards.card(text, self.size)
        return self._cards[text]

    def _next_frame(self) -> np.ndarray:
        if self.paused:
            return self._card(PAUSED_TEXT)
        if self.source is None:
            if time.monotonic() >= self._retry_at:
                self._open_source()
            if self.source is None:
                return self._card(NO_CAMERA_TEXT)
        raw = self.source.read()
        if raw is None and not self.source.live:  # a video file standing in for the camera: loop it
            self._reopen_source()
            raw = self.source.read() if self.source is not None else None
        if raw is None:
            self._close_source()
            self._retry_at = time.monotonic() + RETRY_S
            self._problem("camera", Problem(f"camera {self.settings.camera} stopped sending frames", NO_CAMERA_FIX))
            return self._card(NO_CAMERA_TEXT)
        if getattr(self.source, "lost", False):  # ResilientSource hands out its own card while it reconnects
            self._problem("camera", Problem(f"camera {self.settings.camera} was lost; reconnecting", NO_CAMERA_FIX))
            self.faces = []
            return fit(as_bgr(raw), self.size)
        self._problem("camera", None)
        if self.pipeline is None:  # detector or model still loading (or missing): the plain picture
            out, faces = as_bgr(raw), []
            if self.settings.mirror:
                out = cv2.flip(out, 1)
        else:
            out, faces = self.pipeline.process(raw)
        self.faces = faces
        return fit(out, self.size)

    def _send(self, frame: np.ndarray) -> None:
        try:
            self.sink.send(frame)
        except Exception as exc:  # noqa: BLE001 - a device unplugged mid-call: keep the preview running
            self._problem("virtual camera", Problem(f"sending failed ({exc})", virtual_camera_help()))
            self.sink.close()
            self.sink = NullSink()
        if self._preview_sink is not None:
            try:
                open_ = self._preview_sink.send(frame)
            except UserError as exc:
                self._problem("preview", Problem.from_error(exc))
                open_ = False
            if not open_:  # q or Esc in the window closes the preview, not the app
                self.preview = False
                self._sync_preview()
        now = time.monotonic()
        if self.frames:  # moving average of the interval: steadier than one of instantaneous rates
            gap = now - self._last_sent
            self._interval = gap if self.frames == 1 else 0.9 * self._interval + 0.1 * gap
            self.fps = 1.0 / max(self._interval, 1e-6)
        self._last_sent = now
        self.frames += 1
