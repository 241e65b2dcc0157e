"""Is there a system tray to show the icon in? GNOME shows none without the AppIndicator extension and a bare
X session has none at all; pystray then either shows nothing or (its xorg backend) prints a "Failed to dock
icon" traceback on every icon refresh. Checked once at start-up: an X11 tray host owns the
_NET_SYSTEM_TRAY_S<screen> selection, an AppIndicator host owns org.kde.StatusNotifierWatcher on D-Bus."""
from __future__ import annotations

import os
import platform

NO_HOST_FIX = ("on GNOME install the 'AppIndicator and KStatusNotifierItem Support' extension; in a bare X "
               "session start a tray such as trayer or stalonetray; meanwhile the preview window steers EmojiCall")


def _x11_tray_owned(display: str) -> bool | None:
    try:
        import Xlib.display
    except ImportError:
        return None
    try:
        d = Xlib.display.Display(display)
    except Exception:  # noqa: BLE001 - no reachable display: nothing to say about trays
        return None
    try:
        atom = d.intern_atom(f"_NET_SYSTEM_TRAY_S{d.get_default_screen()}")
        return d.get_selection_owner(atom) != 0  # X.NONE
    finally:
        d.close()


def _status_notifier_watcher() -> bool | None:
    try:
        import gi

        gi.require_version("Gio", "2.0")
        from gi.repository import Gio, GLib

        bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
        reply = bus.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                              "NameHasOwner", GLib.Variant("(s)", ("org.kde.StatusNotifierWatcher",)),
                              GLib.VariantType("(b)"), Gio.DBusCallFlags.NONE, 1000, None)
        return bool(reply.unpack()[0])
    except Exception:  # noqa: BLE001 - no gi, no session bus: unknown
        return None


def no_tray_host() -> str | None:
    """Why no icon can show here, or None when a host is there (or it cannot be told: then try)."""
    if platform.system() != "Linux" or not os.environ.get("DISPLAY"):
        return None
    x11 = _x11_tray_owned(os.environ["DISPLAY"])
    if x11 is not False or _status_notifier_watcher():
        return None
    return f"no system tray on display {os.environ['DISPLAY']} to show the EmojiCall icon in"
