"""The preview window, drawn by a child process of its own.

OpenCV's HighGUI must own the main thread of the process that draws it: driven from the tray's worker while
GTK owns the main thread it crashed the app with a segmentation fault on the first click, and macOS allows
windows on the main thread only. So the window lives in `python -m emojicall.preview`, fed the newest frame
through a pipe; a crash or a missing display there ends the preview, never the app. Keys pressed in the
window come back one per line (q and Esc close it).
"""
from __future__ import annotations

import collections
import os
import platform
import queue
import struct
import subprocess
import sys
import threading

import numpy as np

from .errors import UserError

_HEADER = struct.Struct("<II")  # width, height; then width * height * 3 bytes of BGR
CLOSE_KEYS = (ord("q"), 27)


def display_problem() -> str | None:
    """Why no window can open here, or None."""
    if platform.system() == "Linux" and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display (DISPLAY is not set)"
    return None


class PreviewWindow:
    """send(frame) -> False once the window was closed (q, Esc, its close button) or could not open."""

    def __init__(self, title: str = "EmojiCall preview"):
        problem = display_problem()
        if problem:
            raise UserError(f"cannot open a preview window: {problem}",
                            "start EmojiCall from your desktop session, or use --output FILE.mp4 or virtual")
        self.title = title
        self.keys: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._proc = subprocess.Popen([sys.executable, "-m", "emojicall.preview", title], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._cond = threading.Condition()
        self._frame: np.ndarray | None = None
        self._closing = False
        self._writer = threading.Thread(target=self._write, name="preview-pipe", daemon=True)
        self._writer.start()
        self._errors: collections.deque[str] = collections.deque(maxlen=5)
        threading.Thread(target=self._read_keys, name="preview-keys", daemon=True).start()
        threading.Thread(target=self._read_errors, name="preview-errors", daemon=True).start()

    @property
    def open(self) -> bool:
        return self._proc.poll() is None and not self._closing

    def why_closed(self) -> str:
        """The child's last stderr line when it ended by itself with an error, else ''."""
        if self._proc.poll() in (None, 0):
            return ""
        return self._errors[-1] if self._errors else f"the window process ended with code {self._proc.returncode}"

    def send(self, frame: np.ndarray) -> bool:
        if not self.open:
            return False
        with self._cond:
            self._frame = frame  # the newest only: a slow window drops frames, never slows the stream
            self._cond.notify()
        return True

    def _write(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._frame is not None or self._closing)
                if self._closing:
                    return
                frame, self._frame = self._frame, None
            h, w = frame.shape[:2]
            try:
                self._proc.stdin.write(_HEADER.pack(w, h))
                self._proc.stdin.write(np.ascontiguousarray(frame).data)
                self._proc.stdin.flush()
            except (OSError, ValueError):  # the window was closed: send() reports it
                return

    def _read_keys(self) -> None:
        for line in self._proc.stdout:
            key = line.decode(errors="replace").strip()
            if key:
                self.keys.put(key)

    def _read_errors(self) -> None:  # drained all along: a chatty Qt must not block on a full pipe
        for line in self._proc.stderr:
            text = line.decode(errors="replace").strip()
            if text:
                self._errors.append(text)

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._writer.join(timeout=2)
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        try:
            self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=2)


def _read_exact(stream, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def main(title: str) -> int:
    import cv2

    stdin, shown = sys.stdin.buffer, False
    while True:
        head = _read_exact(stdin, _HEADER.size)
        if head is None:
            return 0
        w, h = _HEADER.unpack(head)
        data = _read_exact(stdin, w * h * 3)
        if data is None:
            return 0
        cv2.imshow(title, np.frombuffer(data, np.uint8).reshape(h, w, 3))
        key = cv2.waitKey(1) & 0xFF
        if key in CLOSE_KEYS:
            return 0
        if key != 0xFF:
            print(chr(key), flush=True)
        if shown and cv2.getWindowProperty(title, cv2.WND_PROP_VISIBLE) < 1:  # its close button
            return 0
        shown = True


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "EmojiCall preview"))
