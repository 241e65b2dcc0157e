"""Silences native libraries that print straight to file descriptor 2 (libjpeg's "Premature end of JPEG
file", LiteRT's "Created TensorFlow Lite XNNPACK delegate"): users get our one-line messages instead."""
from __future__ import annotations

import contextlib
import os
import sys
import threading

# FFmpeg (inside OpenCV) reads this when a capture opens; -8 is AV_LOG_QUIET. Our own errors name the file.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

_lock = threading.Lock()


@contextlib.contextmanager
def native_stderr_silenced():
    """fd 2 goes to /dev/null for the block. Short blocks only: other threads' stderr is lost meanwhile."""
    with _lock:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):  # no usable fd 2 (e.g. pythonw): nothing to silence
            yield
            return
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 2)
            os.close(null)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


@contextlib.contextmanager
def opencv_log_silenced():
    """OpenCV's own logger off for the block: opening a missing camera prints several WARN/ERROR lines."""
    import cv2

    previous = cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(previous)
