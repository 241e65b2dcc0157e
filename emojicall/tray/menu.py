"""The tray menu, built from the Controller: every item reads its state from it when shown, and every action
calls one Controller method, then `on_change` (the app saves the settings and redraws the icon)."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

from ..detectors import NAMES as DETECTORS
from ..settings import STYLES
from .actions import BY_TEXT

DETECTOR_TEXT = {"haar": "Haar", "mtcnn": "MTCNN", "blazeface": "BlazeFace"}
STYLE_TEXT = {"emoji": "Emoji over the face", "badge": "Badge beside the face", "label": "Emotion label"}
MAX_PROBLEM_LINES = 12
WRAP = 64  # tray menus are as wide as their longest line


def title(ctl) -> str:
    problems = ctl.problems
    if problems:
        area, problem = next(iter(problems.items()))
        return f"EmojiCam: {area}: {problem.what}" + (f". Fix: {problem.fix}" if problem.fix else "")
    if ctl.paused:
        return "EmojiCam: paused"
    return f"EmojiCam: {ctl.fps:.1f} fps"


def status_line(ctl) -> str:
    if ctl.paused:
        return "Paused: camera off, EmojiCam shows a still card"
    if ctl.device:
        return f"Streaming to {ctl.device} at {ctl.fps:.0f} fps"
    return f"No virtual camera: preview only ({ctl.fps:.0f} fps)"


def problem_lines(ctl) -> list[str]:
    """Each problem as a warning line and its fix wrapped below it, for greyed menu items."""
    lines = []
    for area, problem in ctl.problems.items():
        lines += textwrap.wrap(f"\u26a0 {area}: {problem.what}", WRAP, subsequent_indent="    ")
        if problem.fix:
            lines += textwrap.wrap(f"fix: {problem.fix}", WRAP, initial_indent="    ", subsequent_indent="        ")
    if len(lines) > MAX_PROBLEM_LINES:
        lines[MAX_PROBLEM_LINES - 1:] = ["    ... more: run `emojicall doctor`"]
    return lines


def build_menu(ctl, *, cameras: Callable[[], list], on_change: Callable[[], None], on_quit: Callable[[], None],
               on_rescan: Callable[[], None], about: list[str]):
    from pystray import Menu, MenuItem as Item

    from .. import desktop, logs

    def act(fn):
        def action(icon, item):
            fn()
            on_change()
        return action

    def radio(text, fn, is_on):
        return Item(text, act(fn), checked=lambda _: is_on(), radio=True)

    def problem(i):
        def text(_):
            lines = problem_lines(ctl)
            return lines[i] if i < len(lines) else ""
        return Item(text, None, enabled=False, visible=lambda _: len(problem_lines(ctl)) > i)

    def packs():
        yield radio("Bundled (Noto Emoji)", lambda: ctl.set_pack(""), lambda: ctl.settings.pack == "")
        for folder in list(ctl.settings.packs):
            yield radio(Path(folder).name, lambda f=folder: ctl.set_pack(f), lambda f=folder: ctl.settings.pack == f)

    def camera_items():
        found = cameras()
        for cam in found:
            yield radio(str(cam), lambda i=cam.index: ctl.set_camera(i),
                        lambda i=cam.index: ctl.settings.camera == str(i))
        if ctl.settings.camera not in {str(c.index) for c in found}:
            yield radio(f"Camera {ctl.settings.camera}" if ctl.settings.camera.isdigit()
                        else Path(ctl.settings.camera).name, lambda: None, lambda: True)
        if not found:
            yield Item("No camera found", None, enabled=False)
        yield Menu.SEPARATOR
        yield Item("Rescan cameras", lambda icon, item: on_rescan())

    def check(text, **kw):  # a check item of the action table
        action = BY_TEXT[text]
        return Item(text, act(lambda: action.run(ctl)), checked=lambda _: action.is_on(ctl), **kw)

    return Menu(
        Item(lambda _: status_line(ctl), None, enabled=False),
        *[problem(i) for i in range(MAX_PROBLEM_LINES)],
        Menu.SEPARATOR,
        check("Overlay"),
        Item("Detector", Menu(*[radio(DETECTOR_TEXT.get(n, n), lambda n=n: ctl.set_detector(n),
                                      lambda n=n: ctl.settings.detector == n) for n in DETECTORS])),
        Item("Style", Menu(*[radio(STYLE_TEXT[s], lambda s=s: ctl.set_style(s), lambda s=s: ctl.settings.style == s)
                             for s in STYLES])),
        Item("Emoji pack", Menu(packs)),
        check("Mirror"),
        Item("Camera", Menu(camera_items)),
        Item("Calibrate: hold a neutral face", act(ctl.calibrate)),
        Item("Reset calibration", act(ctl.reset_calibration)),
        Menu.SEPARATOR,
        check("Pause"),
        Item("Show preview", act(lambda: ctl.set_preview(not ctl.preview)), checked=lambda _: ctl.preview,
             default=True),
        Item("Start at login", act(lambda: _guard(ctl, "start at login",
                                                  lambda: desktop.set_autostart(not desktop.autostart_enabled()))),
             checked=lambda _: desktop.autostart_enabled(), visible=desktop.supported()),
        Item("Open log folder", act(lambda: _guard(ctl, "log folder", lambda: logs.open_folder(logs.log_folder())))),
        Item("About", Menu(*[Item(line, None, enabled=False) for line in about])),
        Menu.SEPARATOR,
        Item("Quit", lambda icon, item: on_quit()),
    )


def _guard(ctl, area: str, fn: Callable[[], object]) -> None:
    """Desktop chores from the menu: a failure (an unwritable folder, no file manager) shows as a problem."""
    try:
        why = fn()
    except OSError as exc:
        why = f"{exc.strerror or exc} ({getattr(exc, 'filename', '') or ''})"
    ctl.report(area, why if isinstance(why, str) else None)


def menu_text(menu, indent: str = "") -> str:
    """The menu as text, the way a tray draws it: [x]/[ ] for check items, (*)/( ) for radio items."""
    from pystray import Menu

    lines = []
    for item in menu:
        if item is Menu.SEPARATOR:
            lines.append(f"{indent}----")
            continue
        mark = "" if item.checked is None else ("(*) " if item.checked else "( ) ") if item.radio else \
            ("[x] " if item.checked else "[ ] ")
        greyed = "" if item.enabled else "  (greyed)"
        lines.append(f"{indent}{mark}{item.text}{' >' if item.submenu else ''}{greyed}")
        if item.submenu:
            lines.append(menu_text(item.submenu, indent + "    "))
    return "\n".join(lines)


def find(menu, *path: str):
    """The item reached by following texts through submenus, e.g. find(menu, 'Detector', 'MTCNN'); an exact
    text wins over a prefix."""
    items = list(menu)
    hits = [i for i in items if i.text == path[0]] or [i for i in items if i.text.startswith(path[0])]
    if not hits:
        raise KeyError(f"no menu item '{path[0]}' in: {[i.text for i in items]}")
    return hits[0] if len(path) == 1 else find(hits[0].submenu, *path[1:])
