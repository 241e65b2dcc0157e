"""`emojicall` / `emojicall tray`: a tray icon over the Controller, streaming the camera to EmojiCam.

pystray's run() owns the main thread (macOS requires it); the stream runs on the Controller's worker, and a
ticker thread keeps the icon and title current. Everything but run() works with PYSTRAY_BACKEND=dummy.
"""
from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from pathlib import Path
from typing import Callable

from ..errors import UserError

log = logging.getLogger(__name__)
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from ..flags import add_stream_flags

    p = argparse.ArgumentParser(prog="emojicall tray", description="Tray icon; streams the camera to the "
                                "EmojiCam virtual camera. Flags override the saved settings.")
    add_stream_flags(p)
    p.add_argument("--config", type=Path, help="settings file (default: settings.json in your config folder)")
    return p.parse_args(argv)


def configure(args: argparse.Namespace):
    """The saved settings with the flags applied, and the settings file's path."""
    from .. import settings as st
    from ..flags import settings_from

    path = args.config or st.default_path()
    return settings_from(args, st.load(path), where=f"the settings file {path}"), path


class TrayApp:
    def __init__(self, ctl, settings_path: Path, cameras: list | None = None):
        import pystray

        from .. import __version__
        from ..model_files import DEFAULT_MODEL
        from .icon import icon_image
        from .menu import build_menu, title

        self.ctl, self.settings_path, self.cameras = ctl, Path(settings_path), list(cameras or [])
        self._icon_image, self._title = icon_image, title
        self._stopped = threading.Event()
        about = [f"EmojiCall {__version__}", f"Model: {ctl.settings.model or DEFAULT_MODEL}",
                 f"Settings: {self.settings_path}", "Help: docs/tray.md and `emojicall doctor`"]
        self.menu = build_menu(ctl, cameras=lambda: self.cameras, on_change=self.changed, on_quit=self.quit,
                               on_rescan=self.rescan, about=about)
        self.icon = pystray.Icon("emojicall", icon=self.image(), title=title(ctl), menu=self.menu)
        self._shown = (self.image(), tuple(ctl.problems))

    def image(self):
        ctl = self.ctl
        return self._icon_image(ctl.main_label, greyed=ctl.paused or not ctl.settings.overlay,
                                problem=bool(ctl.problems), folder=ctl.settings.pack)

    def refresh(self) -> None:
        """Redraw icon and title; rebuild the native menu only when the problem list changed (GTK menus
        flicker when rebuilt every second)."""
        image, problems = self.image(), tuple(self.ctl.problems)
        if image is not self._shown[0]:
            self.icon.icon = image
        self.icon.title = self._title(self.ctl)
        if problems != self._shown[1] and self.icon.visible:
            self.icon.update_menu()
        self._shown = (image, problems)

    def changed(self) -> None:
        from ..settings import save

        try:
            save(self.ctl.settings, self.settings_path)
        except OSError as exc:
            log.warning("cannot save settings to %s (%s): changes last until you quit", self.settings_path, exc)
        self.refresh()

    def rescan(self) -> None:
        from ..cameras import list_cameras

        def scan():
            self.cameras = list_cameras(width=self.ctl.settings.width, height=self.ctl.settings.height)
            if self.icon.visible:
                self.icon.update_menu()
        threading.Thread(target=scan, name="rescan", daemon=True).start()

    def quit(self) -> bool:
        """Stop the stream (camera and virtual camera released), save, and end run(). True when the worker
        ended in time. Safe from any thread, before run() too (a signal during start-up)."""
        if self._stopped.is_set():
            return not self.ctl.running
        self._stopped.set()
        ended = self.ctl.stop(timeout=2.0)
        self.changed()
        try:
            self.icon.stop()
        except Exception as exc:  # noqa: BLE001 - GTK's notifier raises GError without a notification daemon
            log.debug("stopping the tray icon: %s", exc)
        return ended

    def run_without_tray(self, host_appeared: Callable[[], bool], check_every: float = 2.0) -> bool:
        """No tray host: stream anyway, steered from the preview window's keys; closing the window (q, Esc)
        quits. Without a window (it could not open) it streams until Ctrl-C or SIGTERM. True when a tray host
        came up meanwhile (EmojiCall started at login before the desktop's panel): run() shows the icon then."""
        from .actions import on_key

        if self._stopped.is_set():
            return False
        self.ctl.start()
        self.ctl.set_preview(True)
        opened, next_check = False, time.monotonic() + check_every
        try:
            while not self._stopped.wait(0.1):
                preview = self.ctl.stream.preview
                if preview is not None:
                    opened = True
                    while not preview.window.keys.empty():
                        if on_key(self.ctl, preview.window.keys.get()):
                            self.changed()
                elif opened:  # the user closed the window
                    break
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + check_every
                    if host_appeared():
                        log.warning("a system tray is there now: EmojiCall's icon shows in it")
                        self.ctl.set_preview(False)
                        return True
        except BaseException:
            self.quit()
            raise
        self.quit()
        return False

    def run(self) -> None:
        """Blocks until Quit (or a signal). Must be called from the main thread. A tray that cannot start
        (no D-Bus session for GTK, say) is one line and a clean exit, with camera and virtual camera released."""
        if self._stopped.is_set():  # a signal came before the tray loop started: nothing to start
            return
        if not self.ctl.running:
            self.ctl.start()

        def tick():
            while not self._stopped.wait(1.0):
                self.refresh()

        def setup(icon):
            if failed.is_set():
                return
            if self._stopped.is_set():  # quit() ran between start() and the loop: end the loop at once
                icon.stop()
                return
            icon.visible = True
            threading.Thread(target=tick, name="tray-refresh", daemon=True).start()

        failed = threading.Event()
        try:
            self.icon.run(setup=setup)
        except Exception as exc:  # noqa: BLE001 - the backend's own errors (GLib.GError and others)
            failed.set()
            try:  # pystray's setup thread (not a daemon) waits for a loop that never started: release it
                self.icon._mark_ready()
            except Exception:  # noqa: BLE001 - it updates the menu first, which may fail the same way
                pass
            if not self._stopped.is_set():
                raise UserError(f"the tray icon could not start ({type(exc).__name__}: "
                                f"{' '.join(str(exc).split())[:200]})",
                                "start EmojiCall inside your desktop session (it needs its D-Bus session bus), "
                                "or stream without a tray: `emojicall run --output virtual`") from None
            log.debug("the tray loop ended with %s", exc)
        finally:
            self.quit()


def _block_signals() -> bool:
    """Block Ctrl-C and SIGTERM in this thread before any other thread exists (numpy's OpenBLAS and OpenCV
    start theirs when imported, so nothing heavy may be imported before this), so every thread inherits the
    mask and a waiter thread receives them: the tray's event loop (GTK resets SIGINT to the default action)
    never sees them and the stream is always stopped cleanly."""
    if not hasattr(signal, "pthread_sigmask"):
        return False
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    return True


def _quit_on_signals(app: TrayApp, blocked: bool) -> None:
    if blocked:
        def wait():
            signal.sigwait(_SIGNALS)
            app.quit()
        threading.Thread(target=wait, name="signals", daemon=True).start()
    else:  # Windows: handlers run when the tray loop returns to Python
        for sig in _SIGNALS:
            signal.signal(sig, lambda *_: app.quit())


def main(argv: list[str] | None = None) -> int:
    blocked = _block_signals()
    try:
        return _main(argv, blocked)
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)


def _main(argv: list[str] | None, blocked: bool) -> int:
    if not logging.getLogger().handlers:  # called directly, not through `emojicall`
        from ..logs import setup

        setup(0, log_file=True)
    args = parse_args(argv)
    cfg, path = configure(args)
    from .backend import tray_backend

    tray = tray_backend()
    if tray.name in (None, "dummy"):  # dummy's run() raises and leaves a thread that blocks exit
        raise UserError(f"{tray.problem}: {tray.fix}; `emojicall run --output virtual` streams without a tray")
    if not tray.has_menu:
        log.warning("%s: %s; quit with Ctrl-C", tray.problem, tray.fix)
    from ..cameras import list_cameras
    from ..controller import Controller

    from ..instance import InstanceLock

    from .actions import KEYS
    from .host import NO_HOST_FIX, no_tray_host

    with InstanceLock():  # one EmojiCall at a time holds the camera and EmojiCam
        app = TrayApp(Controller(cfg), path, list_cameras(width=cfg.width, height=cfg.height))
        _quit_on_signals(app, blocked)
        no_host = no_tray_host()
        if no_host:
            log.warning("%s: %s. Preview keys: %s; or Ctrl-C", no_host, NO_HOST_FIX, KEYS)
            if app.run_without_tray(lambda: no_tray_host() is None):
                app.run()
        else:
            app.run()
    return 0
