"""Where bundled files live: a wheel installs models/ and assets/ inside the package (emojicall/models,
emojicall/assets); a source checkout has them at the top of the repo."""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _bundled(folder: str, probe: str) -> Path:
    installed = _PACKAGE / folder
    return installed if (installed / probe).exists() else _PACKAGE.parent / folder


def models_root() -> Path:
    return _bundled("models", "mlp")


def assets_root() -> Path:
    return _bundled("assets", "emojis")


def bundled_emojis() -> Path:
    return assets_root() / "emojis"


def demo_clip() -> Path:
    return assets_root() / "demo" / "smile.mp4"
