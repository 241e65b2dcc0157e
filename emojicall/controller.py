"""The tray's engine, with no GUI in it so every menu action can be tested without a tray. It joins four parts,
each in a file of its own: the one frame loop (stream.py), the camera keeper (keeper.py), the background model
loader (loader.py) and the problem list below. Menu actions are queued and applied between two frames, on the
stream's thread, so no part is ever changed while a frame is being made.
"""
from __future__ import annotations

import logging
import queue
import threading
from typing import Callable

from . import build
from .detectors import create_detector
from .errors import Problem, UserError
from .keeper import SourceKeeper, open_for_tray
from .loader import Loader
from .settings import Settings
from .sinks import Sink, WindowSink
from .sources import Source
from .stream import Stream

log = logging.getLogger(__name__)


class Controller:
    def __init__(self, settings: Settings, *, source_factory: Callable[[str, int, int], Source] = open_for_tray,
                 sink_factory: Callable[[tuple[int, int], float], Sink] | None = None,
                 detector_factory: Callable[[str], object] = create_detector,
                 classifier_factory: Callable[[Settings], object] = build.load_classifier):
        self.settings = settings
        self.size = (settings.width, settings.height)
        self._sink_factory = sink_factory or (lambda size, fps: build.sink("virtual", size, fps, settings))
        self._detector_factory, self._classifier_factory = detector_factory, classifier_factory
        self.preview = False
        self.detector_name: str | None = None  # the detector in use (a requested one may still be loading)
        self._problems: dict[str, Problem] = {}
        self._lock = threading.Lock()
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loader: Loader | None = None
        self.keeper = SourceKeeper(settings.camera, self.size, settings.fps, self._problem, source_factory)
        self.compositor = build.emoji_compositor(settings, warn=lambda text: self._problem("emoji pack",
                                                                                           Problem(text)))
        self.stream = Stream(size=self.size, mirror=settings.mirror, on_problem=self._problem)

    # --- state for the tray -------------------------------------------------------------------------
    @property
    def problems(self) -> dict[str, Problem]:
        with self._lock:
            return dict(self._problems)

    pipeline = property(lambda self: self.stream.pipeline)
    sink = property(lambda self: self.stream.sink)
    source = property(lambda self: self.keeper.source)
    paused = property(lambda self: self.keeper.paused)
    fps = property(lambda self: self.stream.fps.value)
    frames = property(lambda self: self.stream.stats.frames)
    faces = property(lambda self: self.stream.faces)
    device = property(lambda self: getattr(self.sink, "device", None))

    @property
    def main_label(self) -> str | None:
        faces = [f for f in self.faces if f.label is not None]
        return max(faces, key=lambda f: f.area).label if faces else None

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

    # --- control, from any thread -------------------------------------------------------------------
    def start(self) -> None:
        self._loader = Loader(lambda: self._classifier_factory(self.settings),
                              lambda name: self._detector_factory(name), self._loaded, self._problem)
        self._thread = threading.Thread(target=self._run, name="emojicam", daemon=True)
        self._thread.start()
        self._loader.detector(self.settings.detector, fallback=True)

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop and release camera, virtual camera and preview; True when the worker has ended."""
        self._stop.set()
        self.keeper.wake()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._loader is not None:
            self._loader.stop(timeout)
        return not self.running

    def set_overlay(self, on: bool) -> None:
        self.settings.overlay = bool(on)
        self._post(self._sync_pipeline)

    def set_mirror(self, on: bool) -> None:
        self.settings.mirror = bool(on)
        self._post(lambda: self.stream.set_mirror(self.settings.mirror))

    def set_style(self, style: str) -> None:
        self._change("style", style)
        self._post(lambda: setattr(self.compositor, "style", style))

    def set_pack(self, folder: str) -> None:
        """'' is the bundled pack; a folder is added to the packs offered. A broken folder is reported and the
        current pack stays."""
        try:
            pack = build.load_pack(folder)
        except UserError as exc:
            self._problem("emoji pack", exc.problem)
            return
        self._problem("emoji pack", None)
        if folder and folder not in self.settings.packs:
            self.settings.packs.append(folder)
        self.settings.pack = folder
        self._post(lambda: setattr(self.compositor, "pack", pack))

    def set_detector(self, name: str) -> None:
        self._change("detector", name)
        if self._loader is not None:
            self._loader.detector(name, fallback=False)

    def set_camera(self, spec: str | int) -> None:
        self.settings.camera = str(spec)
        self._post(lambda: self._use_source(lambda: self.keeper.switch(self.settings.camera)))

    def pause(self) -> None:
        self.keeper.paused = True  # the menu shows it at once; the camera is released between two frames
        self._post(lambda: self._use_source(lambda: self.keeper.pause(True)))

    def resume(self) -> None:
        self.keeper.paused = False
        self._post(lambda: self._use_source(lambda: self.keeper.pause(False)))

    def calibrate(self) -> None:
        """Menu "Calibrate: hold a neutral face": a few seconds of the running stream (emojicall.calibration)."""
        from . import calibration

        if self.pipeline is None:
            return self.report("calibration", "the model is still loading", "try again in a moment")
        calibration.record_live(self.pipeline.classifier, lambda what, fix="": self.report("calibration", what, fix))

    def reset_calibration(self) -> None:
        from . import calibration

        calibration.reset()
        if self.pipeline is not None:
            self.pipeline.classifier.calibration = None

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
        self.keeper.wake()

    # --- on the loader's thread ---------------------------------------------------------------------
    def _loaded(self, classifier, detector, name: str) -> None:
        self.settings.detector = name  # the menu shows what runs (the fallback, if it came to that)
        self._post(lambda: self._install(classifier, detector, name))

    # --- on the stream's thread ---------------------------------------------------------------------
    def _run(self) -> None:
        try:
            try:
                self.stream.use_sink(self._sink_factory(self.size, self.settings.fps))
            except Exception as exc:  # noqa: BLE001 - UserError or a driver's own error: run on without it
                from .vcam import open_problem

                log.info("virtual camera: %s", exc)
                self._problem("virtual camera", open_problem(exc))
            self._use_source(self.keeper.open)
            self.stream.run(self.keeper.read, stop=self._stop, before=self._apply_commands)
        except Exception:  # noqa: BLE001 - logged; the finally still releases the devices
            log.exception("the EmojiCam worker stopped")
            self._problem("worker", Problem("stopped after an internal error", "quit and start EmojiCall again"))
        finally:
            self.keeper.close()
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

    def _install(self, classifier, detector, name: str) -> None:
        if self.stream.pipeline is None:
            self.stream.use_pipeline(build.pipeline(self.settings, detector=detector, classifier=classifier,
                                                    compositor=self.compositor))
        else:
            self.stream.pipeline.set_detector(detector)
        self._sync_pipeline()
        self.detector_name = name

    def _use_source(self, change: Callable[[], None]) -> None:
        change()
        self.stream.faces = []
        self.stream.use_source(self.keeper.source)
        if self.stream.pipeline is not None:
            self.stream.pipeline.reset()

    def _sync_pipeline(self) -> None:
        if self.stream.pipeline is not None:
            self.stream.pipeline.overlay = self.settings.overlay

    def _sync_preview(self) -> None:
        if self.preview and self.stream.preview is None:
            try:
                self.stream.open_preview(WindowSink("EmojiCam preview"))
            except UserError as exc:
                self._problem("preview", exc.problem)
                self.preview = False
                return
        elif not self.preview:
            self.stream.close_preview()
        self._problem("preview", None)
