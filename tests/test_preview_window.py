"""The preview window's child process (`python -m emojicall.preview TITLE`) on a virtual X screen: it draws the
frame it is sent, pixel for pixel at the frame's size, sends keys back one per line and closes on q, Esc or the
end of its pipe. Where tkinter is missing, opening it is one line with the fix, never a traceback."""
import os
import queue
import subprocess
import sys
import threading
import time

import cv2
import numpy as np
import pytest
from PIL import ImageGrab

from conftest import ROOT, shared_path, xvfb
from emojicall.preview import _HEADER

TITLE = "EmojiCall pixels"


@pytest.fixture
def screen():
    with xvfb(800, 300) as env:
        yield env


@pytest.fixture
def frame():
    """A real webcam frame at a size no default would give (400x226)."""
    cap = cv2.VideoCapture(str(shared_path("media", "videos", "webcam", "pyfeat_single_face_smile.mp4")))
    for _ in range(10):
        ok, image = cap.read()
        assert ok
    cap.release()
    image = cv2.resize(image, (400, 226), interpolation=cv2.INTER_AREA)
    assert image.std() > 20  # a real picture, not a flat one a blank window could pass for
    return image


class Window:
    def __init__(self, env):
        self.env = env
        self.proc = subprocess.Popen([sys.executable, "-m", "emojicall.preview", TITLE], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.keys: queue.SimpleQueue[str] = queue.SimpleQueue()
        threading.Thread(target=lambda: [self.keys.put(line.decode().strip()) for line in self.proc.stdout],
                         daemon=True).start()

    def send(self, image):
        self.proc.stdin.write(_HEADER.pack(image.shape[1], image.shape[0]) + image.tobytes())
        self.proc.stdin.flush()

    def xdotool(self, *args) -> str:
        return subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True).stdout

    def wait_for_id(self) -> str:
        deadline = time.monotonic() + 30
        while not (found := self.xdotool("search", "--name", f"^{TITLE}$").split()):
            assert self.proc.poll() is None, self.proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no window with the title"
            time.sleep(0.1)
        return found[0]

    def shown(self, wid: str) -> np.ndarray:
        """What the screen shows where the window is, as BGR."""
        geo = dict(line.split("=") for line in self.xdotool("getwindowgeometry", "--shell", wid).split())
        x, y, w, h = (int(geo[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
        shot = np.asarray(ImageGrab.grab(xdisplay=self.env["DISPLAY"]))
        return shot[y:y + h, x:x + w, ::-1]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.fixture
def window(screen):
    w = Window(screen)
    yield w
    w.stop()


def test_the_window_draws_the_frame_at_its_size_and_sends_keys_back(window, frame):
    window.send(frame)
    wid = window.wait_for_id()
    deadline = time.monotonic() + 30
    while True:  # drawn at the frame's size, the same pixels (a mean difference of 2 levels at most)
        shown = window.shown(wid)
        diff = np.abs(shown.astype(int) - frame).mean() if shown.shape == frame.shape else None
        if diff is not None and diff <= 2:
            break
        assert time.monotonic() < deadline, f"the window shows {shown.shape}, {diff} from the {frame.shape} frame"
        time.sleep(0.2)
    window.xdotool("windowfocus", "--sync", wid)
    window.xdotool("key", "o")
    assert window.keys.get(timeout=30) == "o"
    assert window.proc.poll() is None  # a key other than q or Esc leaves it open


@pytest.mark.parametrize("how", ["q", "Escape", "pipe closed"])
def test_q_esc_and_the_end_of_the_pipe_close_it(window, frame, how):
    window.send(frame)
    wid = window.wait_for_id()
    if how == "pipe closed":  # the app closed the preview, or ended
        window.proc.stdin.close()
    else:
        window.xdotool("windowfocus", "--sync", wid)
        window.xdotool("key", how)
    assert window.proc.wait(timeout=30) == 0, window.proc.stderr.read().decode()
    assert not window.xdotool("search", "--name", f"^{TITLE}$").split()


def _without_tkinter(code: str) -> subprocess.CompletedProcess:
    """`code` where `import tkinter` fails, as on Debian without python3-tk; a display is set."""
    return subprocess.run([sys.executable, "-c", "import sys\nsys.modules['tkinter'] = None\n" + code], cwd=ROOT,
                          env={**os.environ, "DISPLAY": ":0"}, capture_output=True, text=True,
                          timeout=300)


def test_without_tkinter_opening_the_preview_is_one_line_with_the_fix():
    out = _without_tkinter('from emojicall import cli\nsys.exit(cli.main(["run", "--camera", "demo", '
                           '"--output", "window"]))')
    lines = [line for line in out.stderr.splitlines() if line.strip() and not line.startswith("INFO:")]
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("emojicall: cannot open a preview window: Python's tkinter is "
                                                   "missing"), lines
    if sys.platform.startswith("linux"):
        assert "sudo apt install python3-tk" in lines[0]


def test_doctor_warns_without_tkinter_and_names_the_fix():
    out = _without_tkinter("from emojicall import doctor\nc = doctor.check_preview()\n"
                           "print(c.mark, c.needed, c.detail, c.fix, sep='|')")
    assert out.returncode == 0, out.stderr[-2000:]
    mark, needed, detail, fix = out.stdout.strip().split("|")
    assert (mark, needed, detail) == ("warn", "False", "Python's tkinter is missing") and fix
