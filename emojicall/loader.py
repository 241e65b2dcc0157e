"""Loads the tray's models on a thread of its own, so the stream never stalls on them: the classifier once, then
a detector each time one is chosen. Jobs run one at a time, in order; a detector asked for before the previous
one finished loading replaces it (the older result is closed unused)."""
from __future__ import annotations

import logging
import queue
import threading
from typing import Callable

from . import build
from .errors import Problem

log = logging.getLogger(__name__)


class Loader:
    def __init__(self, load_classifier: Callable[[], object], load_detector: Callable[[str], object],
                 on_ready: Callable[[object, object, str], None], on_problem: Callable[[str, Problem | None], None]):
        """on_ready(classifier, detector, name) runs on the loader's thread with both parts loaded;
        on_problem(area, problem) reports what could not load (None: what was wrong is fixed)."""
        self._load_classifier, self._load_detector = load_classifier, load_detector
        self._on_ready, self._on_problem = on_ready, on_problem
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._wanted = 0  # the newest detector request; older ones are void
        self._lock = threading.Lock()
        self.classifier = None
        self._loaded: str | None = None  # the detector that loaded last
        self._thread = threading.Thread(target=self._loop, name="loader", daemon=True)
        self._thread.start()

    def detector(self, name: str, *, fallback: bool) -> None:
        """Load `name` (with `fallback`, the fallback detector when it cannot start)."""
        with self._lock:
            self._wanted += 1
            self._jobs.put((self._wanted, name, fallback))

    def stop(self, timeout: float) -> None:
        """Let the load in hand finish (a process that exits inside LiteRT or OpenCV aborts: "terminate called
        without an active exception", 4 of 16 tray runs without D-Bus), drop the rest."""
        with self._lock:
            self._wanted += 1
        self._jobs.put(None)
        self._thread.join(timeout)

    def _loop(self) -> None:
        try:
            self.classifier = self._load_classifier()
        except Exception as exc:  # noqa: BLE001 - any load failure: the stream goes on without emoji, and says so
            what, fix = Problem.of(exc)
            self._on_problem("model", Problem(f"{what}; frames go out without emoji", fix or "run `emojicall doctor`"))
        while (job := self._jobs.get()) is not None:
            wanted, name, fallback = job
            if wanted == self._wanted and self.classifier is not None:
                self._detector(wanted, name, fallback)

    def _detector(self, wanted: int, name: str, fallback: bool) -> None:
        try:
            detector, name = build.load_detector(name, fallback=fallback, warn=log.warning,
                                                 factory=self._load_detector)
        except Exception as exc:  # noqa: BLE001 - an import or model failure must leave the stream running
            self._on_problem("detector", Problem(f"cannot start {name} ({exc})",
                                                 f"keeping {self._loaded}; run `emojicall doctor`"))
            return
        if wanted != self._wanted:  # a newer choice came in meanwhile
            detector.close()
            return
        self._loaded = name
        self._on_problem("detector", None)
        self._on_ready(self.classifier, detector, name)
