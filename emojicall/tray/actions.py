"""The tray's main actions in one table, read by both the menu (its check items) and the preview window's keys
(when no tray host is there to show a menu)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..detectors import NAMES as DETECTORS
from ..settings import STYLES


def _next(options, current):
    return options[(options.index(current) + 1) % len(options)] if current in options else options[0]


@dataclass(frozen=True)
class Action:
    text: str                               # the menu item
    key: str                                # the preview window's key
    run: Callable[[object], None]           # run(controller)
    is_on: Callable[[object], bool] | None  # a check item's state; None: a choice the menu offers as a submenu


ACTIONS = (
    Action("Overlay", "o", lambda c: c.set_overlay(not c.settings.overlay), lambda c: c.settings.overlay),
    Action("Mirror", "m", lambda c: c.set_mirror(not c.settings.mirror), lambda c: c.settings.mirror),
    Action("Pause", "p", lambda c: c.resume() if c.paused else c.pause(), lambda c: c.paused),
    Action("Detector", "d", lambda c: c.set_detector(_next(DETECTORS, c.settings.detector)), None),
    Action("Style", "s", lambda c: c.set_style(_next(STYLES, c.settings.style)), None),
)
BY_TEXT = {a.text: a for a in ACTIONS}
KEYS = ", ".join(f"{a.key} {a.text.lower()}" for a in ACTIONS) + "; q or Esc in the window quits"


def on_key(ctl, key: str) -> bool:
    """A key from the preview window; True when it was an action (a setting changed)."""
    for action in ACTIONS:
        if action.key == key.lower():
            action.run(ctl)
            return True
    return False
