"""Which pystray backend this machine gets, and whether it can show a menu (the app is driven from it)."""
from __future__ import annotations

import platform
from typing import NamedTuple

LINUX_MENU_FIX = ("install GTK and AppIndicator from your distribution and make EmojiCall's venv on the system Python "
                  "so it sees them: Debian/Ubuntu `sudo apt install python3-venv python3-gi gir1.2-gtk-3.0 "
                  "gir1.2-ayatanaappindicator3-0.1`, then `/usr/bin/python3 -m venv --system-site-packages .venv && "
                  ".venv/bin/pip install .` (in another venv on Debian 12: `sudo apt install libcairo2-dev "
                  "libgirepository1.0-dev pkg-config gcc`, then `pip install 'PyGObject<3.51'`; see docs/tray.md)")


class TrayBackend(NamedTuple):
    name: str | None    # appindicator, gtk, xorg, darwin, win32, dummy; None: none can start
    has_menu: bool
    problem: str        # "" when a menu is there
    fix: str


def tray_backend() -> TrayBackend:
    """Imports pystray: call it only when a tray is wanted, never at import time."""
    try:
        import pystray
    except Exception as exc:  # noqa: BLE001 - without a display Xlib raises its own errors, not ImportError
        problem = f"no tray backend can start ({type(exc).__name__}: {' '.join(str(exc).split())})"
        if platform.system() == "Linux":
            return TrayBackend(None, False, problem, "start EmojiCall inside your desktop session; for a tray "
                               f"menu {LINUX_MENU_FIX}")
        return TrayBackend(None, False, problem, "reinstall pystray: `pip install 'pystray>=0.19'`")
    module = pystray.Icon.__module__.rsplit(".", 1)[-1]
    name = "dummy" if module == "_base" else module.lstrip("_")  # the dummy backend re-exports the base class
    if name == "dummy":
        return TrayBackend(name, False, "PYSTRAY_BACKEND=dummy shows nothing (it is for tests)",
                           "unset PYSTRAY_BACKEND")
    if not pystray.Icon.HAS_MENU:
        return TrayBackend(name, False, f"pystray uses {name}, which has no menu", LINUX_MENU_FIX)
    return TrayBackend(name, True, "", "")
