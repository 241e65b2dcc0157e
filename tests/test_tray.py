"""The tray app through pystray's dummy backend: menu items fired with item(icon) drive a real Controller on a
real clip, and the frames the virtual camera receives show the effect. run() is never called (dummy raises)."""
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from conftest import ROOT, shared_path
from emojicall import cards, settings as st
from emojicall.cameras import CameraInfo
from emojicall.cards import PAUSED as PAUSED_TEXT
from emojicall.controller import Controller
from emojicall.errors import UserError
from emojicall.paths import bundled_emojis
from emojicall.settings import Settings
from test_controller import CLIP, Recorder, emoji_yellow, frames_after, inner_face, model_name, wait_until


@pytest.fixture(scope="module", autouse=True)
def dummy_tray():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYSTRAY_BACKEND", "dummy")
        import pystray

        if pystray.Icon.__module__ != "pystray._base":
            pytest.skip("pystray was already imported with a real backend in this process")
        yield


def make_app(tmp_path, sink=None, cameras=(), **kw):
    from emojicall.tray.app import TrayApp

    rec = Recorder()
    settings = Settings(camera=str(shared_path(*CLIP)), width=640, height=360, model=model_name(), **kw)
    ctl = Controller(settings, source_factory=rec.source, sink_factory=sink or rec.sink)
    app = TrayApp(ctl, tmp_path / "settings.json", list(cameras))
    ctl.start()
    wait_until(lambda: ctl.detector_name is not None and ctl.frames > 2, "the first frames")
    return app, ctl, rec


def fire(app, *path):
    from emojicall.tray.menu import find

    find(app.menu, *path)(app.icon)


def pixels(image):
    return np.asarray(image.convert("RGBA"))


@pytest.fixture
def tray(tmp_path):
    app, ctl, rec = make_app(tmp_path)
    yield app, ctl, rec
    app.quit()


def test_overlay_and_style_items_change_the_next_frames_and_are_saved(tray, tmp_path):
    app, ctl, rec = tray
    plain = {f.tobytes() for f in __import__("test_controller").clip_frames()}
    fire(app, "Overlay")
    assert sum(out.tobytes() in plain for out in frames_after(rec, 6)) == 6
    assert json.loads((tmp_path / "settings.json").read_text())["overlay"] is False

    fire(app, "Overlay")
    fire(app, "Style", "Emotion label")
    from emojicall.tray.menu import find

    assert [i.checked for i in find(app.menu, "Style").submenu] == [False, False, True]
    frames_after(rec, 4)
    i = len(rec.sent) - 1  # sent[i] was made from reads[i]: no card went out in this test
    face = inner_face(rec.reads[i])
    # The label style writes text above the face and leaves the face itself uncovered.
    assert emoji_yellow(rec.sent[i][face]) < 0.05 and not np.array_equal(rec.sent[i], rec.reads[i])
    assert st.load(tmp_path / "settings.json").style == "label"


def test_a_user_emoji_pack_from_the_menu_is_drawn_and_shown_in_the_icon(tmp_path):
    pack = tmp_path / "blue"
    pack.mkdir()
    for png in bundled_emojis().glob("*.png"):  # the bundled art with red and blue swapped: yellow turns blue
        img = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)
        cv2.imwrite(str(pack / png.name), img[..., [2, 1, 0, 3]])
    app, ctl, rec = make_app(tmp_path, packs=[str(pack)])
    try:
        fire(app, "Emoji pack", "blue")
        frames_after(rec, 4)
        i = len(rec.sent) - 1
        hsv = cv2.cvtColor(rec.sent[i][inner_face(rec.reads[i])], cv2.COLOR_BGR2HSV)
        blue = np.mean((hsv[..., 0] >= 95) & (hsv[..., 0] <= 125) & (hsv[..., 1] > 150))
        assert blue > 0.3 and emoji_yellow(rec.sent[i][inner_face(rec.reads[i])]) < 0.05
        rgba = pixels(app.image())
        opaque = rgba[rgba[..., 3] > 200]
        assert np.mean(opaque[:, 2] > opaque[:, 0] + 60) > 0.3  # the icon is the blue pack's emoji
    finally:
        app.quit()


def test_pause_item_greys_the_icon_shows_it_in_the_title_and_sends_the_card(tray):
    app, ctl, rec = tray
    wait_until(lambda: ctl.main_label, "a face")
    app.refresh()
    rgba = pixels(app.icon.icon)
    assert np.mean(np.ptp(rgba[rgba[..., 3] > 200][:, :3], axis=1) > 60) > 0.3  # coloured emoji while live
    assert app.icon.title.startswith("EmojiCam: ") and app.icon.title.endswith(" fps")
    fire(app, "Pause")
    card = cards.card(PAUSED_TEXT, (640, 360))
    assert all(np.array_equal(out, card) for out in frames_after(rec, 3))
    app.refresh()
    rgba = pixels(app.icon.icon)
    assert np.ptp(rgba[..., :3], axis=2).max() == 0  # grey: every pixel has R == G == B
    assert app.icon.title == "EmojiCam: paused"
    fire(app, "Pause")
    wait_until(lambda: not ctl.paused and ctl.source is not None, "the camera again")


def test_problems_and_their_fixes_show_in_the_title_the_menu_and_the_icon(tmp_path, monkeypatch):
    from emojicall.vcam import VirtualCamSink
    from emojicall.tray.menu import menu_text

    app, ctl, rec = make_app(tmp_path, sink=lambda size, fps: VirtualCamSink(size, fps, choice="emojicall-refuse"))
    try:
        monkeypatch.delenv("DISPLAY", raising=False)
        fire(app, "Show preview")  # no display here: reported, the stream goes on
        wait_until(lambda: "preview" in ctl.problems, "the preview problem")
        app.refresh()
        fix = "sudo modprobe v4l2loopback" if sys.platform.startswith("linux") else "OBS"
        what = ctl.problems["virtual camera"].what
        assert app.icon.title.startswith(f"EmojiCam: virtual camera: {what}. Fix: ") and fix in app.icon.title
        text = menu_text(app.menu)
        assert f"\u26a0 virtual camera: {what[:20]}" in text and "\u26a0 preview: cannot open a preview window: no" in text
        assert "    fix: " in text and "[ ] Show preview" in text
        assert text.splitlines()[0].startswith("No virtual camera: preview only")
        rgba = pixels(app.icon.icon)
        r, g, b, a = rgba[-12, -12]  # the red dot in the bottom-right corner
        assert a == 255 and r > 180 and g < 80 and b < 80
        n = ctl.frames
        wait_until(lambda: ctl.frames > n + 3, "frames")
    finally:
        app.quit()


def test_menu_lists_cameras_and_every_radio_group_has_one_choice(tmp_path):
    from emojicall.tray.menu import find, menu_text

    app, ctl, rec = make_app(tmp_path, cameras=[CameraInfo(4, "USB cam", (1280, 720))])
    try:
        cams = find(app.menu, "Camera").submenu
        assert [(i.text, i.checked) for i in cams if i.checked is not None] == \
            [("USB cam (1280x720)", False), (shared_path(*CLIP).name, True)]
        for group in ("Detector", "Style", "Emoji pack", "Camera"):
            assert sum(bool(i.checked) for i in find(app.menu, group).submenu) == 1, group
        from emojicall.detectors import DEFAULT
        from emojicall.tray.menu import DETECTOR_TEXT

        assert f"(*) {DETECTOR_TEXT[DEFAULT]}" in menu_text(app.menu) and "[x] Overlay" in menu_text(app.menu)  # the defaults
    finally:
        app.quit()


def test_quit_item_releases_camera_virtual_camera_and_worker(tray, tmp_path):
    app, ctl, rec = tray
    fire(app, "Quit")
    assert not ctl.running and rec.cams[0].closed
    assert all(not getattr(s, "_src", s)._cap.isOpened() for s in rec.sources)
    assert st.load(tmp_path / "settings.json").camera == str(shared_path(*CLIP))


def test_flags_override_the_saved_settings(tmp_path):
    from emojicall.tray.app import configure, parse_args

    path = tmp_path / "s.json"
    st.save(Settings(style="label", fps=10.0, mirror=True), path)
    cfg, got_path = configure(parse_args(["--config", str(path), "--style", "badge", "--no-overlay",
                                          "--no-mirror", "--emoji-dir", str(tmp_path), "--camera", "3"]))
    assert got_path == path
    assert (cfg.style, cfg.overlay, cfg.mirror, cfg.fps, cfg.camera) == ("badge", False, False, 10.0, "3")
    assert cfg.pack == str(tmp_path.resolve()) and cfg.packs == [str(tmp_path.resolve())]
    with pytest.raises(UserError, match="--width"):
        configure(parse_args(["--config", str(path), "--width", "3"]))


def _cli(env):
    return subprocess.run([sys.executable, "-m", "emojicall", "--no-overlay"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_command_says_in_one_line_when_no_tray_can_show():
    env = {**os.environ, "PYSTRAY_BACKEND": "dummy"}
    r = _cli(env)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert r.stderr.startswith("emojicall: PYSTRAY_BACKEND=dummy shows nothing") and "emojicall run" in r.stderr
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        env = {k: v for k, v in os.environ.items() if k != "PYSTRAY_BACKEND"}
        r = _cli(env)
        assert r.returncode == 2 and r.stderr.startswith("emojicall: no tray backend can start")
        assert "gir1.2-ayatanaappindicator3-0.1" in r.stderr


SIGNAL_CHILD = """
import os, sys, time
os.environ["PYSTRAY_BACKEND"] = "dummy"
sys.path[:0] = [{tests!r}, {root!r}]
from emojicall.tray import app as tray_app
blocked = tray_app._block_signals()  # as main() does, before any thread starts
from test_controller import CLIP, Recorder, model_name, shared_path
from emojicall.controller import Controller
from emojicall.settings import Settings
rec = Recorder()
ctl = Controller(Settings(camera=str(shared_path(*CLIP)), width=640, height=360, model=model_name()),
                 source_factory=rec.source, sink_factory=rec.sink)
app = tray_app.TrayApp(ctl, {settings!r}, [])
ctl.start()
tray_app._quit_on_signals(app, blocked)
while ctl.frames < 3:
    time.sleep(0.05)
print("ready", flush=True)
end = time.monotonic() + 60
while not (rec.cams[0].closed and not ctl.running) and time.monotonic() < end:
    time.sleep(0.05)
released = all(not getattr(s, "_src", s)._cap.isOpened() for s in rec.sources)
print("released", not ctl.running, rec.cams[0].closed, released, flush=True)
"""


@pytest.mark.skipif(not hasattr(__import__("signal"), "pthread_sigmask"), reason="POSIX signal masks")
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_sigterm_and_ctrl_c_stop_the_stream_and_release_the_devices(tmp_path, sig):
    import signal

    shared_path(*CLIP)
    code = SIGNAL_CHILD.format(tests=str(ROOT / "tests"), root=str(ROOT), settings=str(tmp_path / "s.json"))
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env={k: v for k, v in os.environ.items() if k != "PYSTRAY_BACKEND"})
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        child.send_signal(getattr(signal, sig))
        out, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert out.strip() == "released True True True" and child.returncode == 0, err
    assert (tmp_path / "s.json").is_file()  # quitting saved the settings


def test_about_names_the_model_the_app_runs(tmp_path):
    from emojicall import model_files as mf
    from emojicall.tray.app import TrayApp
    from emojicall.tray.menu import menu_text

    default = TrayApp(Controller(Settings(camera=str(shared_path(*CLIP)))), tmp_path / "a.json")
    chosen = TrayApp(Controller(Settings(camera=str(shared_path(*CLIP)), model="mlp")), tmp_path / "b.json")
    assert f"Model: {mf.resolve_model_dir(None).name}" in menu_text(default.menu)
    assert "Model: mlp" in menu_text(chosen.menu)


def test_a_signal_before_the_tray_loop_started_ends_run_at_once(tmp_path):
    """quit() from the signal thread between start-up and icon.run() used to leave run() blocked for good."""
    from emojicall.tray.app import TrayApp

    rec = Recorder()
    ctl = Controller(Settings(camera=str(shared_path(*CLIP)), width=640, height=360, detector="haar"),
                     source_factory=rec.source, sink_factory=rec.sink)
    app = TrayApp(ctl, tmp_path / "settings.json")
    assert app.quit()
    app.run()  # returns: nothing was started (with the dummy backend icon.run() would raise)
    assert not ctl.running and not rec.sources


def test_start_at_login_writes_and_removes_the_autostart_entry_and_open_log_folder_reports(tmp_path, monkeypatch):
    if not __import__("emojicall.desktop").desktop.supported():
        pytest.skip("autostart entries are a freedesktop (Linux/BSD) convention")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))  # no xdg-open: the menu says where the log is instead
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    from emojicall.logs import log_folder

    log_folder().mkdir(parents=True)
    entry = tmp_path / "config" / "autostart" / "emojicall.desktop"
    app, ctl, rec = make_app(tmp_path)
    try:
        from emojicall.tray.menu import find

        fire(app, "Start at login")
        assert entry.is_file() and "Exec=" in entry.read_text() and find(app.menu, "Start at login").checked
        fire(app, "Start at login")
        assert not entry.exists() and not find(app.menu, "Start at login").checked
        fire(app, "Open log folder")
        assert "emojicall.log" in ctl.problems["log folder"].what
    finally:
        app.quit()


def test_calibrate_and_reset_calibration_items(tmp_path, monkeypatch):
    import threading

    from emojicall import calibration

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    app, ctl, rec = make_app(tmp_path)
    try:
        fire(app, "Calibrate: hold a neutral face")
        assert ctl.pipeline.classifier.recorder is not None  # the running stream's faces are being recorded
        for thread in [t for t in threading.enumerate() if t.name == "calibrate"]:
            thread.join(timeout=60)
        # The clip is neutral, then smiles with teeth from frame 16, then neutral: whichever 3 s were recorded,
        # the outcome is a stored calibration in use, or one problem line saying what to do.
        stored, problem = calibration.default_path().exists(), ctl.problems.get("calibration")
        assert stored != (problem is not None)
        if stored:
            assert ctl.pipeline.classifier.calibration is not None
        else:
            assert "\n" not in str(problem) and problem.fix
        calibration.save(np.zeros(7, np.float32), model_name())
        ctl.pipeline.classifier.calibration = np.zeros(7, np.float32)
        fire(app, "Reset calibration")
        assert not calibration.default_path().exists() and ctl.pipeline.classifier.calibration is None
    finally:
        app.quit()
