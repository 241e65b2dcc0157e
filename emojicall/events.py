"""Per-frame emotion events for offline analysis (`emojicall run --events FILE`).

JSON Lines (one object per frame, frames without faces included so that a reader knows how long the video
was) unless the path ends in .csv: then one row per face and frame, and a row with an empty `track` for a
frame without faces, for the same reason. `emojicall report` reads both.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Iterable

import numpy as np

from . import outputs
from .errors import UserError
from .outputs import OutputFile
from .face import Face
from .labels import LABELS

CSV_FIELDS = ("frame", "t", "track", "x", "y", "w", "h", "label", *LABELS)


def is_csv(path: str | Path) -> bool:
    return str(path).lower().endswith(".csv")


def face_record(face: Face) -> dict:
    """probs: the face's class scores as the app used them (after smoothing), scaled to sum to 1: the
    smoother's per-class medians and its lift of the shown class leave sums of 0.92-1.37 (measured on
    CREMA-D actor 1001), which a reader should not have to know about. The argmax, `label`, is unchanged."""
    probs = {}
    if face.probs is not None:
        p = np.clip(np.asarray(face.probs, dtype=float), 0, None)
        p = p / p.sum() if p.sum() > 0 else p
        probs = {c: round(float(v), 4) for c, v in zip(LABELS, p)}
    return {"track": face.track_id, "box": [int(v) for v in face.box], "label": face.label, "probs": probs}


class EventWriter:
    """Writes one record per frame. `path`: an outputs.OutputFile that `emojicall run` checked, or a path, which
    is checked here against `inputs`, the run's input files (an `--events` path typed where the clip's name was
    meant would otherwise destroy the clip); an existing file is replaced only once the writer closes."""

    def __init__(self, path: str | Path | OutputFile, fps: float, inputs: Iterable[str | Path] = ()):
        self.out = path if isinstance(path, OutputFile) else \
            outputs.check(path, "--events", [outputs.resolve(src) for src in inputs if src is not None],
                          overwrite=True)
        self.path, self.fps = self.out.target, float(fps) if fps and fps > 0 else 30.0
        self._fh = open(self.out.open(), "w", newline="" if is_csv(self.path) else None, encoding="utf-8")
        self._csv = csv.writer(self._fh) if is_csv(self.path) else None
        if self._csv is not None:
            self._csv.writerow(CSV_FIELDS)
        self.frames = 0

    def write(self, frame_no: int, t: float | None, faces: list[Face]) -> None:
        """`t` in seconds from the start; None means frame_no / fps (a file played as fast as it decodes)."""
        t = round(frame_no / self.fps if t is None else float(t), 4)
        records = [face_record(f) for f in faces]
        try:
            if self._csv is None:
                self._fh.write(json.dumps({"frame": int(frame_no), "t": t, "faces": records}) + "\n")
            elif not records:
                self._csv.writerow([frame_no, t, *[""] * (len(CSV_FIELDS) - 2)])
            else:
                for r in records:
                    probs = [r["probs"].get(c, "") for c in LABELS]
                    track = "" if r["track"] is None else r["track"]
                    self._csv.writerow([frame_no, t, track, *r["box"], r["label"] or "", *probs])
        except OSError as exc:  # disk full mid-run: one line, not a traceback from the frame loop
            self._fail(exc)
        self.frames += 1
        if self.frames % 300 == 0:  # a live run killed later still leaves its first minutes on disk
            self._fh.flush()

    def on_frame(self, t: float | None = None):
        """A run_stream(on_frame=...) callback that numbers frames itself; `t` a clock (e.g. time.monotonic)
        for live cameras, None for files (frame_no / fps)."""
        start = None if t is None else t()

        def callback(_out, faces):
            self.write(self.frames, None if t is None else t() - start, faces)
        return callback

    def close(self) -> None:
        """Finish the file and put it in place; one that cannot be finished is removed, and says why in
        `self.out.error` (close runs while the stream shuts down, where nobody could hear an exception)."""
        if self._fh.closed:
            return
        try:
            self._fh.close()
            self.out.finish()
        except OSError as exc:
            try:
                self._fail(exc)
            except UserError as error:
                self.out.error = f"events: {error}"

    def _fail(self, exc: OSError):
        try:
            self._fh.close()
        except OSError:
            pass  # the same full disk again
        self.out.discard()
        raise UserError(f"cannot write events file {self.path} ({exc.strerror or exc}); nothing was kept",
                        "free space or choose another path") from None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
