"""Faults around `emojicall run`, each reproduced on the real chain: an output that is the input, a virtual camera
that fails mid-run, a signal during start-up, and a second EmojiCall fighting over the devices."""
import os
import shutil
import signal
import subprocess
import sys

import pytest

from conftest import ROOT, shared_path

CLIP = ("media", "videos", "webcam", "pyfeat_single_face_smile.mp4")


def _env(tmp_path, **extra):
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
            "XDG_RUNTIME_DIR": str(tmp_path), **extra}


def _run(tmp_path, *args, timeout=300):
    return subprocess.run([sys.executable, "-m", "emojicall", "run", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env=_env(tmp_path))


@pytest.mark.parametrize("how", ["same path", "symlink", "relative path"])
def test_an_output_that_is_the_input_is_refused_and_the_input_kept(tmp_path, how):
    clip = tmp_path / "in.mp4"
    shutil.copy(shared_path(*CLIP), clip)
    before = clip.read_bytes()
    out = {"same path": str(clip), "relative path": os.path.relpath(clip, ROOT)}.get(how)
    if how == "symlink":
        (tmp_path / "out.mp4").symlink_to(clip)
        out = str(tmp_path / "out.mp4")
    r = _run(tmp_path, "--camera", str(clip), "--output", out, "--detector", "haar")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [f"emojicall: --output {out} is the input {clip}: "
                                             "write the output to another file"]
    assert clip.read_bytes() == before  # 72 frames, untouched (before the fix: truncated to 6)


FAILING_CAM = r"""
import sys
import pyvirtualcam
from emojicall import cli

class Unplugged:
    def __init__(self, *, width, height, fps, fourcc, device, **kw):
        self.sent = 0
    def send(self, frame):
        self.sent += 1
        if self.sent > 10:
            raise RuntimeError("the v4l2loopback device went away")
    def close(self):
        raise RuntimeError("closing a device that is gone")
    def device(self):
        return "EmojiCam-test"
    def native_fourcc(self):
        return None

pyvirtualcam.register_backend("unplugged", Unplugged)
sys.exit(cli.main(["run", "--camera", sys.argv[1], "--output", "virtual", "--detector", "haar"]))
"""


def test_a_virtual_camera_that_fails_mid_run_is_one_line_and_a_clean_exit(tmp_path):
    r = subprocess.run([sys.executable, "-c", FAILING_CAM, str(shared_path(*CLIP))], cwd=ROOT,
                       capture_output=True, text=True, timeout=300, env=_env(tmp_path))
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith("emojicall: ")]
    assert any(line.startswith("emojicall: virtual camera: sending failed (RuntimeError: the v4l2loopback device "
                               "went away)") for line in lines), r.stderr
    assert r.stdout.startswith("11 frames, ")  # the frame that failed, then the run ended


def test_sigterm_during_start_up_releases_and_exits_without_a_traceback(tmp_path):
    """MTCNN's TensorFlow import takes seconds: the signal lands while the models load."""
    out = tmp_path / "out.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "emojicall", "-vv", "run", "--camera", str(shared_path(*CLIP)),
                             "--output", str(out), "--detector", "mtcnn"], cwd=ROOT, env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The signal goes as soon as the run says it handles signals, before the models load: not after a fixed
    # sleep, which a busy machine can outlast before Python has even imported the app.
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "SIGTERM now stop the run cleanly" in line:
            break
    proc.send_signal(signal.SIGTERM)
    stdout, rest = proc.communicate(timeout=300)
    stderr = "".join(seen) + rest
    assert proc.returncode == 0 and "Traceback" not in stderr, (proc.returncode, stderr)  # before: killed (-15)
    assert stdout.startswith("0 frames, ") and "% of one core" in stdout  # stopped before the first frame


def test_a_second_emojicall_says_one_is_running_instead_of_fighting_for_the_devices(tmp_path):
    from emojicall.instance import InstanceLock

    with InstanceLock(tmp_path / "emojicall" / "emojicall.lock"):  # where XDG_RUNTIME_DIR puts it
        r = _run(tmp_path, "--camera", str(shared_path(*CLIP)), "--output", "virtual", "--detector", "haar")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        f"emojicall: EmojiCall is already running (process {os.getpid()}) and holds the camera and EmojiCam: "
        "quit it from its tray icon (or stop that `emojicall run`) first"]
    with InstanceLock(tmp_path / "emojicall" / "emojicall.lock"):  # released with its holder: it can be taken again
        pass
