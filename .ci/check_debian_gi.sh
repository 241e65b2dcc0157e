#!/usr/bin/env bash
# The README's tray install on Debian 12 (and Ubuntu 22.04+): Debian's own python3-gi, seen from a venv made
# with --system-site-packages on the system Python (/usr/bin/python3). No compiler, no build: `pip install
# PyGObject` in a plain venv fails on Debian 12 (the newest PyGObject needs girepository-2.0, glib 2.80).
# Usage: bash .ci/check_debian_gi.sh [VENV]   FULL=1 also installs the project itself into it (minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=(python3-venv python3-gi gir1.2-gtk-3.0 gir1.2-ayatanaappindicator3-0.1 python3-tk)
if ! command -v dpkg-query >/dev/null || [ ! -x /usr/bin/python3 ]; then
    echo "SKIP: not a Debian-family system with /usr/bin/python3"; exit 0
fi
missing=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        # A fresh machine may have no package lists yet: update only when the install needs it.
        apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
    else
        echo "SKIP: needs sudo apt install ${missing[*]}"; exit 0
    fi
fi
VENV=${1:-$(mktemp -d)/venv}
rm -rf "$VENV"
/usr/bin/python3 -m venv --system-site-packages "$VENV"
if [ "${FULL:-0}" = 1 ]; then "$VENV/bin/pip" install -q . ; else "$VENV/bin/pip" install -q pystray pillow; fi
"$VENV/bin/python" - <<'PY'
import gi
gi.require_version("Gtk", "3.0")
gi.require_version("AyatanaAppIndicator3", "0.1")
from gi.repository import AyatanaAppIndicator3, Gtk  # noqa: F401
print(f"ok   gi {gi.__version__} from {gi.__file__}, Gtk {Gtk.get_major_version()}.{Gtk.get_minor_version()}, AyatanaAppIndicator3")
import tkinter
from PIL import ImageTk  # noqa: F401  the preview window draws with both
print(f"ok   tkinter (Tk {tkinter.TkVersion}) for the preview window")
PY
if command -v xvfb-run >/dev/null; then  # pystray's backends initialise Gtk, which needs a display
    for backend in appindicator gtk; do
        PYSTRAY_BACKEND=$backend xvfb-run -a "$VENV/bin/python" -c \
            "import pystray; print('ok   pystray backend', pystray.Icon.__module__)"
    done
else
    echo "note: no xvfb-run, pystray's backends not imported"
fi
if [ "${FULL:-0}" = 1 ]; then
    xvfb-run -a "$VENV/bin/python" -c "from emojicall.tray.backend import tray_backend; print('ok   emojicall tray backend:', tray_backend())"
fi
