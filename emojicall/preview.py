"""The preview window, drawn by a child process of its own with Tk (Python's tkinter and Pillow's ImageTk), so
that OpenCV can be its headless build: HighGUI brought Qt (35 MB of the install) for this one window.

A GUI toolkit must own the main thread of the process that draws it: OpenCV's window driven from the tray's
worker while GTK owned the main thread crashed the app with a segmentation fault on the first click, and macOS
allows windows on the main thread only. So the window lives in `python -m emojicall.preview`, fed the newest
frame through a pipe; a crash or a missing display there ends the preview, never the app. Keys pressed in the
window come back one per line (q, Esc and its close button close it).
"""
from __future__ import annotations

import collections
import importlib.util
import os
import platform
import queue
import struct
import subprocess
import sys
import threading

import numpy as np

from .errors import Problem, UserError

_HEADER = struct.Struct("<II")  # width, height; then width * height * 3 bytes of BGR
_POLL_MS = 10  # how often the window looks for a new frame: Tk may only be called from its own thread
_TK_FIX = {"Linux": "sudo apt install python3-tk (Fedora: sudo dnf install python3-tkinter)",
           "Darwin": "brew install python-tk (Homebrew's Python), or use Python from python.org"}


def tk_problem() -> Problem | None:
    """Why Tk cannot draw here, or None: some systems ship Python's tkinter as a package of its own."""
    if all(importlib.util.find_spec(name) for name in ("tkinter", "_tkinter")):
        return None
    return Problem("Python's tkinter is missing", _TK_FIX.get(platform.system(), "reinstall Python with Tcl/Tk"))


def window_problem() -> Problem | None:
    """Why no window can open here (with the fix), or None."""
    if platform.system() == "Linux" and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return Problem("no display (DISPLAY is not set)",
                       "start EmojiCall from your desktop session, or use --output FILE.mp4 or virtual")
    return tk_problem()


class PreviewWindow:
    """send(frame) -> False once the window was closed (q, Esc, its close button) or could not open."""

    def __init__(self, title: str = "EmojiCall preview"):
        problem = window_problem()  # here: a child without tkinter could only end in a traceback
        if problem:
            raise UserError(f"cannot open a preview window: {problem.what}", problem.fix)
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

    def _read_errors(self) -> None:  # drained all along: a chatty child must not block on a full pipe
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


def _read_exact(fd: int, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


class _Feed:
    """Reads frames off the pipe on a thread of its own, so the window stays responsive; the window takes the
    newest, older ones are dropped. `ended` once the pipe closed (the app closed the preview or ended)."""

    def __init__(self, fd: int):
        self._lock = threading.Lock()
        self._newest = None
        self.ended = False
        threading.Thread(target=self._read, args=(fd,), name="preview-feed", daemon=True).start()

    def _read(self, fd: int) -> None:
        from PIL import Image

        # os.read, not sys.stdin.buffer: a daemon thread blocked inside the buffered reader's lock aborts the
        # interpreter's shutdown (a fatal error) when q closes the window while the pipe is still open.
        while (head := _read_exact(fd, _HEADER.size)) is not None:
            w, h = _HEADER.unpack(head)
            data = _read_exact(fd, w * h * 3)
            if data is None:
                break
            image = Image.frombytes("RGB", (w, h), data, "raw", "BGR")  # BGR to RGB within the copy it makes
            with self._lock:
                self._newest = image
        self.ended = True

    def take(self):
        with self._lock:
            image, self._newest = self._newest, None
        return image


def main(title: str) -> int:
    import tkinter as tk  # the parent checked it is there (tk_problem)

    from PIL import ImageTk

    try:
        root = tk.Tk()
    except tk.TclError as exc:  # a display that will not have us: one line for why_closed(), no traceback
        print(f"cannot open a window: {exc}", file=sys.stderr)
        return 1
    root.title(title)
    view = tk.Label(root, borderwidth=0, highlightthickness=0, padx=0, pady=0)  # the window is the frame's size
    view.pack()
    feed, photo = _Feed(sys.stdin.fileno()), None

    def on_key(event) -> None:
        if event.keysym == "Escape" or event.char == "q":
            root.destroy()
        elif event.char.isprintable() and event.char:
            print(event.char, flush=True)

    def show() -> None:
        nonlocal photo
        if feed.ended:
            root.destroy()
            return
        image = feed.take()
        if image is not None and photo is not None and (photo.width(), photo.height()) == image.size:
            photo.paste(image)  # the same Tk image, redrawn in place
        elif image is not None:  # the first frame or a new size: the window follows it
            photo = ImageTk.PhotoImage(image)
            view.configure(image=photo)
        root.after(_POLL_MS, show)

    root.bind("<Key>", on_key)
    show()
    root.mainloop()  # ends when the window is destroyed: q, Esc, its close button, or the pipe closing
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "EmojiCall preview"))
