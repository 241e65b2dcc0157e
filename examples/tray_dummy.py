"""Drive the tray app without a tray: pystray's dummy backend, a video file as the camera, menu items fired
by hand. Prints the menu as the tray would draw it; --icon-png writes the icon in its four states.

    .venv/bin/python examples/tray_dummy.py [VIDEO] [--model mlp] [--icon-png docs/tray_icon.png]
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ["PYSTRAY_BACKEND"] = "dummy"  # before pystray is imported: run() is never called here
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from emojicall.controller import Controller  # noqa: E402
from emojicall.paths import demo_clip  # noqa: E402
from emojicall.settings import Settings  # noqa: E402
from emojicall.tray.app import TrayApp  # noqa: E402
from emojicall.tray.icon import icon_image  # noqa: E402
from emojicall.tray.menu import find, menu_text  # noqa: E402


def icon_strip(path: Path, size: int = 128) -> None:
    from PIL import Image, ImageDraw

    states = [("happy face", dict(label="happy")), ("surprised face", dict(label="surprise")),
              ("paused / overlay off", dict(label="happy", greyed=True)), ("needs a fix", dict(problem=True))]
    strip = Image.new("RGBA", (len(states) * (size + 40), size + 36), (245, 245, 245, 255))
    draw = ImageDraw.Draw(strip)
    for i, (caption, kw) in enumerate(states):
        x = i * (size + 40) + 20
        strip.alpha_composite(icon_image(size=size, **kw), (x, 8))
        draw.text((x + size // 2, size + 20), caption, fill=(40, 40, 40, 255), anchor="mm")
    path.parent.mkdir(parents=True, exist_ok=True)
    strip.convert("RGB").save(path)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("video", nargs="?", default=str(demo_clip()))
    p.add_argument("--model", default="")
    p.add_argument("--icon-png", type=Path)
    args = p.parse_args()
    ctl = Controller(Settings(camera=args.video, width=640, height=360, model=args.model))
    app = TrayApp(ctl, Path(tempfile.mkdtemp()) / "settings.json")
    ctl.start()
    while ctl.frames < 30:
        time.sleep(0.05)
    app.refresh()
    print(menu_text(app.menu), f"\ntitle: {app.icon.title}\nmain face: {ctl.main_label}\n")
    for path in (("Style", "Badge beside the face"), ("Mirror",), ("Pause",)):
        find(app.menu, *path)(app.icon)
        print("fired", " > ".join(path))
    time.sleep(0.5)
    app.refresh()
    print(f"title: {app.icon.title}; camera released: {ctl.source is None}")
    print(f"quit: worker ended = {app.quit()}")
    if args.icon_png:
        icon_strip(args.icon_png)
        print(f"wrote {args.icon_png}")


if __name__ == "__main__":
    main()
