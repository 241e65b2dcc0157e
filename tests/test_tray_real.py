"""The tray on a real desktop tray: Xvfb, a real system-tray host (Debian's trayer), a D-Bus session and pystray's
GTK backend. A left click on the icon (its default action: Show preview) used to kill the app with a
segmentation fault (exit 139): OpenCV's window was driven from the worker thread while GTK owned the main one.
Without a D-Bus session GTK raised GError from icon.run and the process hung holding the camera.

Skips, naming what is missing, where Xvfb, trayer, xdotool, dbus-run-session or GTK for Python are absent
(.ci/run installs them)."""
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, shared_path, xvfb

CLIP = ("media", "videos", "webcam", "pyfeat_single_face_smile.mp4")
W, H = 800, 300


def _needs():
    missing = [tool for tool in ("Xvfb", "trayer", "xdotool", "dbus-run-session") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (Debian: apt install xvfb trayer xdotool dbus-x11)")
    probe = subprocess.run([sys.executable, "-c", "import gi; gi.require_version('Gtk', '3.0'); "
                            "from gi.repository import Gtk"], capture_output=True, text=True)
    if probe.returncode:
        pytest.skip("needs GTK for Python in this environment (README: the tray on Linux)")


@pytest.fixture
def display():
    _needs()
    with xvfb(W, H) as env:
        yield {**env, "PYSTRAY_BACKEND": "gtk", "PYTHONPATH": str(ROOT)}


def _windows(env, name):
    out = subprocess.run(["xdotool", "search", "--name", name], env=env, capture_output=True, text=True)
    return out.stdout.split()


def _session(script, display, tmp_path):
    """The script inside one D-Bus session; (its process, the env the test's X calls use)."""
    env = {**display, "XDG_RUNTIME_DIR": str(tmp_path), "HOME": str(tmp_path)}
    return subprocess.Popen(["dbus-run-session", "--", "bash", str(script)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), env


def _wait_for_window(env, name, session, tmp_path, what, timeout=120):
    deadline = time.monotonic() + timeout
    while not (found := _windows(env, name)):
        assert session.poll() is None, (tmp_path / "app.log").read_text()
        assert time.monotonic() < deadline, what
        time.sleep(0.5)
    return found


def test_left_click_opens_the_preview_and_sigterm_quits_cleanly(display, tmp_path):
    script = tmp_path / "session.sh"
    # Inside one D-Bus session: the tray host, then the app; the test talks to the app through its pid file.
    script.write_text(f"""
trayer --edge top --align right --widthtype request --height 32 --SetDockType true >/dev/null 2>&1 &
sleep 1
{sys.executable} -m emojicall tray --camera {shared_path(*CLIP)} --detector haar --width 640 --height 360 \\
    --config {tmp_path / 'settings.json'} > {tmp_path / 'app.log'} 2>&1 &
echo $! > {tmp_path / 'app.pid'}
wait $!
echo $? > {tmp_path / 'app.rc'}
kill %1
""")
    session, env = _session(script, display, tmp_path)
    try:  # the docked icon's window carries the tray title
        _wait_for_window(env, "^EmojiCam: ", session, tmp_path, "the tray icon did not show")
        time.sleep(1)
        subprocess.run(["xdotool", "mousemove", str(W - 16), "16", "click", "1"], env=env, check=True)
        deadline = time.monotonic() + 60
        while not _windows(env, "EmojiCam preview"):
            assert not (tmp_path / "app.rc").exists(), \
                f"the app ended ({(tmp_path / 'app.rc').read_text().strip()}): {(tmp_path / 'app.log').read_text()}"
            assert time.monotonic() < deadline, "no preview window after the click"
            time.sleep(0.5)
        time.sleep(2)  # frames go to the window for a while
        assert not (tmp_path / "app.rc").exists(), (tmp_path / "app.log").read_text()
        os.kill(int((tmp_path / "app.pid").read_text()), signal.SIGTERM)
        session.wait(timeout=30)
        assert (tmp_path / "app.rc").read_text().strip() == "0", (tmp_path / "app.log").read_text()
        assert not _windows(env, "EmojiCam preview"), "the preview window closed with the app"
        assert "Traceback" not in (tmp_path / "app.log").read_text()
    finally:
        if session.poll() is None:
            session.kill()
            session.wait()


def test_without_a_dbus_session_the_tray_says_so_in_one_line_and_exits(display, tmp_path):
    env = {k: v for k, v in display.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env.update(XDG_RUNTIME_DIR=str(tmp_path), HOME=str(tmp_path), DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent")
    trayer = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--SetDockType", "true"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # a tray host, but no D-Bus
    try:
        time.sleep(1)
        r = subprocess.run([sys.executable, "-m", "emojicall", "tray", "--camera", str(shared_path(*CLIP)),
                            "--detector", "haar", "--config", str(tmp_path / "settings.json")],
                           env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        trayer.kill()
        trayer.wait()
    lines = [line for line in r.stderr.splitlines() if line.startswith("emojicall: ")]
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert any("the tray icon could not start" in line and "D-Bus" in line for line in lines), r.stderr


def test_without_a_tray_host_it_says_so_once_and_the_preview_window_steers_it(display, tmp_path):
    """A bare X session (no trayer): pystray's xorg backend used to print 'Failed to dock icon' with a
    traceback on every icon refresh."""
    env = {**display, "PYSTRAY_BACKEND": "xorg", "XDG_RUNTIME_DIR": str(tmp_path), "HOME": str(tmp_path)}
    settings = tmp_path / "settings.json"
    proc = subprocess.Popen([sys.executable, "-m", "emojicall", "tray", "--camera", str(shared_path(*CLIP)),
                             "--detector", "haar", "--width", "640", "--height", "360", "--config", str(settings)],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (found := _windows(env, "EmojiCam preview")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no preview window"
            time.sleep(0.5)
        time.sleep(3)  # a few icon refreshes: each one used to print a traceback
        subprocess.run(["xdotool", "windowfocus", "--sync", found[0]], env=env, check=True)
        subprocess.run(["xdotool", "key", "o"], env=env, check=True)  # o: overlay off, as the menu item
        deadline = time.monotonic() + 30
        while not (settings.exists() and '"overlay": false' in settings.read_text()):
            assert time.monotonic() < deadline, "the o key did not turn the overlay off"
            time.sleep(0.2)
        subprocess.run(["xdotool", "key", "q"], env=env, check=True)  # q closes the window: EmojiCall quits
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0 and "Traceback" not in stderr and "Failed to dock" not in stderr, stderr
    assert sum("no system tray on display" in line for line in stderr.splitlines()) == 1, stderr


def test_a_tray_that_comes_up_after_the_app_gets_the_icon(display, tmp_path):
    """Started at login, EmojiCall may be up before the desktop's panel: it streams with the preview meanwhile
    and moves into the tray once there is one."""
    script = tmp_path / "session.sh"
    script.write_text(f"""
{sys.executable} -m emojicall tray --camera {shared_path(*CLIP)} --detector haar --width 640 --height 360 \\
    --config {tmp_path / 'settings.json'} > {tmp_path / 'app.log'} 2>&1 &
echo $! > {tmp_path / 'app.pid'}
while [ ! -e {tmp_path / 'start-tray'} ]; do sleep 0.2; done
trayer --edge top --align right --widthtype request --height 32 --SetDockType true >/dev/null 2>&1 &
wait %1
echo $? > {tmp_path / 'app.rc'}
kill %2
""")
    session, env = _session(script, display, tmp_path)
    try:  # no tray yet: the preview window stands in for it
        _wait_for_window(env, "EmojiCam preview", session, tmp_path, "no preview window without a tray")
        (tmp_path / "start-tray").touch()
        _wait_for_window(env, "^EmojiCam: ", session, tmp_path, "the icon did not move into the tray", 60)
        os.kill(int((tmp_path / "app.pid").read_text()), signal.SIGTERM)
        session.wait(timeout=30)
        log = (tmp_path / "app.log").read_text()
        assert (tmp_path / "app.rc").read_text().strip() == "0" and "Traceback" not in log, log
        assert "a system tray is there now" in log
    finally:
        if session.poll() is None:
            session.kill()
            session.wait()
