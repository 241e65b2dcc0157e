"""The tray's engine, with no GUI in it so every menu action can be tested without a tray: it owns the camera,
the virtual camera and the settings, queues the menu's changes and applies them between two frames of the one
frame loop (stream.py), and loads detectors and the model in the background so the stream never stalls.

The virtual camera gets frames at a steady, capped rate even while paused or without a camera (a still card),
because call apps treat a camera that stops delivering as broken.
"""
from __future__ import annotations

import logging
import platform
import queue
import threading
import time
from typing import Callable, NamedTuple

from . import build, cards
from .cameras import NO_CAMERA_FIX
from .compositor import Compositor
from .detectors import create_detector
from .errors import UserError
from .frames import CARD, Frame
from .settings import Settings
from .sinks import NullSink, Sink, VirtualCamSink, WindowSink, virtual_camera_help
from .sources import Source
from .stream import Stream

log = logging.getLogger(__name__)
RETRY_S = 3.0  # how often a missing camera is looked for again


class Problem(NamedTuple):
    what: str
    fix: str = ""

    def __str__(self):
        return f"{self.what}: {self.fix}" if self.fix else self.what

    @classmethod
    def of(cls, exc: BaseException) -> "Problem":
        return cls(exc.what, exc.fix) if isinstance(exc, UserError) else cls(f"{type(exc).__name__}: {exc}")


def _virtual_camera_problem(exc: BaseException) -> Problem:
    """Worded as `emojicall doctor` words it: on Linux the v4l2loopback diagnosis says what exactly is off."""
    if platform.system() == "Linux":
        from .doctor import v4l2loopback_check

        check = v4l2loopback_check()
        if check is not None:
            return Problem(check.detail, check.fix)
    if isinstance(exc, UserError):
        return Problem.of(exc)
    return Problem(f"cannot open it ({exc})", virtual_camera_help())


class Controller:
    def __init__(self, settings: Settings, *, source_factory: Callable[[str, int, int], Source] = build.open_camera,
                 sink_factory: Callable[[tuple[int, int], float], Sink] | None = None,
                 detector_factory: Callable[[str], object] = create_detector,
                 classifier_factory: Callable[[Settings], object] = build.load_classifier):
        self.settings = settings
        self.size = (settings.width, settings.height)
        self._source_factory = source_factory
        self._sink_factory = sink_factory or (lambda size, fps: VirtualCamSink(size, fps, choice=settings.vcam_backend))
        self._detector_factory, self._classifier_factory = detector_factory, classifier_factory
        self.source: Source | None = None
        self.paused = False
        self.preview = False
        self.detector_name: str | None = None   # the detector in use (a requested one may still be loading)
        self._classifier = None
        self._problems: dict[str, Problem] = {}
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._classifier_lock = threading.Lock()
        self._det_gen = 0
        self._retry_at = 0.0
        self._thread: threading.Thread | None = None
        self._loaders: list[threading.Thread] = []
        self.stream = Stream(NullSink(), size=self.size, pace_fps=settings.fps,
                             on_problem=lambda area, what, fix: self._problem(area, Problem(what, fix)))
        self.stream.mirror = settings.mirror
        self.compositor = Compositor(build.load_pack(settings.pack, self._pack_problem), style=settings.style,
                                     show_label=settings.show_label)

    # --- state for the tray -------------------------------------------------------------------------
    @property
    def problems(self) -> dict[str, Problem]:
        with self._lock:
            return dict(self._problems)

    @property
    def pipeline(self):
        return self.stream.pipeline

    @property
    def sink(self) -> Sink:
        return self.stream.sink

    @property
    def fps(self) -> float:
        return self.stream.fps.value

    @property
    def frames(self) -> int:
        return self.stream.stats.frames

    @property
    def faces(self) -> list:
        return self.stream.faces

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

    def report(self, area: str, what: str | None, fix: str = "") -> None:
        """A problem from outside the stream (the menu's desktop chores); None clears it."""
        self._problem(area, Problem(what, fix) if what else None)

    def _pack_problem(self, text: str) -> None:
        self._problem("emoji pack", Problem(text))

    # --- control, from any thread -------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="emojicam", daemon=True)
        self._thread.start()
        self._load_detector(self.settings.detector, fallback=True)

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop and release camera, virtual camera and preview; True when the worker has ended."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        if self._thread is not None:
            self._thread.join(timeout)
        # A loader still inside LiteRT or OpenCV when the process exits aborts it ("terminate called without an
        # active exception", 4 of 16 tray runs without D-Bus): let it finish first.
        for loader in list(self._loaders):
            loader.join(max(0.0, deadline - time.monotonic()))
        return not self.running

    def set_overlay(self, on: bool) -> None:
        self.settings.overlay = bool(on)
        self._post(self._sync_pipeline)

    def set_mirror(self, on: bool) -> None:
        self.settings.mirror = bool(on)
        self._post(self._sync_pipeline)

    def set_style(self, style: str) -> None:
        self._change("style", style)
        self._post(lambda: setattr(self.compositor, "style", style))

    def set_pack(self, folder: str) -> None:
        """'' is the bundled pack; a folder is added to the packs offered. A broken folder is reported and the
        current pack stays."""
        try:
            pack = build.load_pack(folder)
        except UserError as exc:
            self._problem("emoji pack", Problem.of(exc))
            return
        self._problem("emoji pack", None)
        if folder and folder not in self.settings.packs:
            self.settings.packs.append(folder)
        self.settings.pack = folder
        self._post(lambda: setattr(self.compositor, "pack", pack))

    def set_detector(self, name: str) -> None:
        self._change("detector", name)
        self._load_detector(name, fallback=False)

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

    def _change(self, name: str, value) -> None:
        """Set one setting, refusing a value Settings.problems() rejects (the one place values are checked)."""
        old = getattr(self.settings, name)
        setattr(self.settings, name, value)
        bad = [why for fields, why in self.settings.problems() if name in fields]
        if bad:
            setattr(self.settings, name, old)
            raise UserError(bad[0], "pick one from the menu")

    def _post(self, fn: Callable[[], None]) -> None:
        self._commands.put(fn)

    # --- loading (off the worker, so a slow load never stalls the stream) ---------------------------
    def _load_detector(self, name: str, fallback: bool) -> None:
        with self._lock:
            self._det_gen += 1
            gen = self._det_gen
        loader = threading.Thread(target=self._loader, args=(name, gen, fallback), name=f"load-{name}", daemon=True)
        with self._lock:
            self._loaders = [t for t in self._loaders if t.is_alive()] + [loader]
        loader.start()

    def _load_classifier(self) -> None:
        with self._classifier_lock:
            if self._classifier is not None or "model" in self.problems:
                return
            try:
                self._classifier = self._classifier_factory(self.settings)
            except Exception as exc:  # noqa: BLE001 - any load failure: the stream goes on without emoji, and says so
                what, fix = Problem.of(exc)
                self._problem("model", Problem(f"{what}; frames go out without emoji",
                                               fix or "run `emojicall doctor`"))

    def _loader(self, name: str, gen: int, fallback: bool) -> None:
        self._load_classifier()
        try:  # the default falls back only while nothing runs yet: faces still need finding
            detector, name = build.load_detector(name, fallback=fallback and self.detector_name is None,
                                                 warn=log.warning, factory=self._detector_factory)
        except Exception as exc:  # noqa: BLE001 - an import or model failure must leave the stream running
            self._problem("detector", Problem(f"cannot start {name} ({exc})",
                                              f"keeping {self.detector_name}; run `emojicall doctor`"))
            return
        if gen != self._det_gen or self._stop.is_set():  # a newer choice came in meanwhile
            detector.close()
            return
        self.settings.detector = name  # the menu shows what runs (the fallback, if it came to that)
        self._post(lambda: self._install_detector(detector, name, gen))

    def _install_detector(self, detector, name: str, gen: int) -> None:
        if gen != self._det_gen or self._classifier is None:
            detector.close()
            return
        if self.stream.pipeline is None:
            self.stream.pipeline = build.make_pipeline(self.settings, detector, self._classifier,
                                                       compositor=self.compositor)
        else:
            self.stream.pipeline.set_detector(detector)
        self._sync_pipeline()
        self.detector_name = name
        self._problem("detector", None)

    # --- the worker ----------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._open_sink()
            if not self.paused:
                self._open_source()
            self.stream.run(self._read, stop=self._stop, before=self._apply_commands)
        except Exception:  # noqa: BLE001 - logged; the finally still releases the devices
            log.exception("the EmojiCam worker stopped")
            self._problem("worker", Problem("stopped after an internal error", "quit and start EmojiCall again"))
        finally:
            self._close_source()
            self.stream.close()

    def _apply_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                break
            command()
        if self.preview and self.stream.preview is None:  # the user closed the window (q, Esc, its button)
            self.preview = False

    def _open_sink(self) -> None:
        try:
            self.stream.sink = self._sink_factory(self.size, self.settings.fps)
        except Exception as exc:  # noqa: BLE001 - UserError or a driver's own error: run on without it
            log.info("virtual camera: %s", exc)
            self._problem("virtual camera", _virtual_camera_problem(exc))

    def _open_source(self) -> None:
        self._retry_at = time.monotonic() + RETRY_S
        try:
            self.source = self._source_factory(self.settings.camera, *self.size)
        except UserError as exc:
            self.source = None
            self._problem("camera", Problem.of(exc) if not self.settings.camera.isdigit() else
                          Problem(f"camera {self.settings.camera} gives no picture", NO_CAMERA_FIX))
            return
        self._problem("camera", None)
        self._sync_pipeline()

    def _close_source(self) -> None:
        if self.source is not None:
            source, self.source = self.source, None
            source.close()
        self.stream.faces = []

    def _reopen_source(self) -> None:
        self._close_source()
        if not self.paused:
            self._open_source()

    def _sync_pipeline(self) -> None:
        self.stream.follow(self.source)
        self.stream.mirror = self.settings.mirror
        if self.stream.pipeline is not None:
            self.stream.pipeline.overlay = self.settings.overlay

    def _sync_preview(self) -> None:
        if self.preview and self.stream.preview is None:
            try:
                self.stream.preview = WindowSink("EmojiCam preview")
            except UserError as exc:
                self._problem("preview", Problem.of(exc))
                self.preview = False
                return
        elif not self.preview:
            self.stream.close_preview()
        self._problem("preview", None)

    def _read(self) -> Frame:
        """The next frame record for the stream: the camera's, or the card that says why there is none."""
        if self.paused:
            return Frame(cards.card(cards.PAUSED, self.size), CARD)
        if self.source is None:
            if time.monotonic() >= self._retry_at:
                self._open_source()
            if self.source is None:
                return Frame(cards.card(cards.NO_CAMERA, self.size), CARD)
        record = self.source.read_frame()
        if record is None and not self.source.live:  # a video file standing in for the camera: loop it
            self._reopen_source()
            record = self.source.read_frame() if self.source is not None else None
        if record is None:
            self._close_source()
            self._retry_at = time.monotonic() + RETRY_S
            self._problem("camera", Problem(f"camera {self.settings.camera} stopped sending frames", NO_CAMERA_FIX))
            return Frame(cards.card(cards.NO_CAMERA, self.size), CARD)
        if record.kind == CARD:  # ResilientSource's own card while it reconnects
            self._problem("camera", Problem(f"camera {self.settings.camera} was lost; reconnecting", NO_CAMERA_FIX))
        else:
            self._problem("camera", None)
        return record
