"""Face detectors behind one interface. Implementations are imported on first use so that choosing
Haar never imports TensorFlow."""
from __future__ import annotations

from ..errors import UserError
from .base import Detector

_REGISTRY = {"haar": ("haar", "HaarDetector"), "mtcnn": ("mtcnn", "MTCNNDetector")}
NAMES = tuple(_REGISTRY)


def register_detector(name: str, module: str, cls: str) -> None:
    """Add a detector by dotted module path (relative names resolve inside this package)."""
    _REGISTRY[name] = (module, cls)


def create_detector(name: str, **options) -> Detector:
    import importlib

    if name not in _REGISTRY:
        raise UserError(f"unknown detector '{name}': use one of {', '.join(_REGISTRY)}")
    module, cls = _REGISTRY[name]
    mod = importlib.import_module(module if "." in module else f"{__name__}.{module}")
    return getattr(mod, cls)(**options)


__all__ = ["Detector", "NAMES", "create_detector", "register_detector"]
