"""Where finished frames go: the EmojiCam virtual camera, a preview window, a video file, or nowhere.

`send(frame)` takes a BGR frame and returns False when the user asked to stop; a frame of another size is
letterboxed into the sink's (frames.fit, the one resize policy).
"""
from __future__ import annotations

import platform
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from .errors import UserError
from .frames import fit

CAM_LABEL = "EmojiCam"
MODPROBE = f"sudo modprobe v4l2loopback devices=1 video_nr=10 card_label={CAM_LABEL} exclusive_caps=1"


def virtual_camera_help() -> str:
    if platform.system() == "Linux":
        return f"load v4l2loopback: `{MODPROBE}` (some Zoom builds need it without exclusive_caps=1)"
    from .vcam import help_line

    return help_line()


class Sink(ABC):
    area = "output"   # how problems with it are named
    fix = ""          # what to do when sending to it fails

    @abstractmethod
    def send(self, frame: np.ndarray) -> bool: ...

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class NullSink(Sink):
    def send(self, frame):
        return True


class FileSink(Sink):
    """A video file, written by videowriter.VideoWriter (H.264 MP4 or VP9 WebM); `path` is an
    outputs.OutputFile that `emojicall run` checked before anything opened, or a path for a new file."""

    area = "video file"

    def __init__(self, path, size: tuple[int, int], fps: float):
        from .outputs import OutputFile, check
        from .videowriter import FIX, SUFFIXES, VideoWriter

        out = path if isinstance(path, OutputFile) else \
            check(path, "--output", [], overwrite=False, suffixes=SUFFIXES)
        self.path, self.fix = out.target, FIX
        self._writer = VideoWriter(out, size, fps)
        self.size = self._writer.size

    def send(self, frame):
        self._writer.write(fit(frame, self.size))
        return True

    def close(self):
        self._writer.close()


class WindowSink(Sink):
    """A preview window (in a process of its own, see preview.py); send() is False once the user closed it."""

    area = "preview"

    def __init__(self, title: str = "EmojiCall preview"):
        from .preview import PreviewWindow

        self.window = PreviewWindow(title)

    def send(self, frame):
        return self.window.send(frame)

    def close(self):
        self.window.close()


def find_labelled_device(label: str = CAM_LABEL) -> str | None:
    """/dev/videoN of the v4l2loopback device whose card label is `label` (Linux only)."""
    for name_file in sorted(Path("/sys/class/video4linux").glob("video*/name")):
        try:
            if name_file.read_text().strip() == label:
                return f"/dev/{name_file.parent.name}"
        except OSError:
            continue
    return None


class VirtualCamSink(Sink):
    """pyvirtualcam.Camera fed OpenCV's BGR frames as PixelFormat.BGR: no conversion on our side. `choice` is
    --vcam-backend (vcam.py picks the backend and device that show the camera as EmojiCam where it can);
    an explicit `backend` opens that pyvirtualcam backend as it is."""

    area = "virtual camera"

    def __init__(self, size: tuple[int, int], fps: float, device: str | None = None, backend: str | None = None,
                 choice: str = "auto"):
        import pyvirtualcam

        from . import vcam

        self.size = size
        if backend is None:
            self.cam, attempt = vcam.open_camera(choice, size[0], size[1], fps)
            self.shown_as = attempt.shown_as
        else:
            try:
                self.cam = pyvirtualcam.Camera(size[0], size[1], fps, fmt=pyvirtualcam.PixelFormat.BGR,
                                               device=device, backend=backend)
            except RuntimeError as exc:
                reason = " / ".join(str(exc).splitlines()) or "no backend"
                raise UserError(f"no virtual camera ({reason})", virtual_camera_help()) from None
            self.shown_as = self.cam.device
        self.device = self.cam.device
        self.fix = virtual_camera_help()

    def send(self, frame):
        self.cam.send(np.ascontiguousarray(fit(frame, self.size)))
        return True

    def close(self):
        try:
            self.cam.close()
        finally:  # a backend whose close raised must not be closed again by Camera.__del__ at exit
            self.cam._backend = None


def open_sink(output, size: tuple[int, int], fps: float, vcam_backend: str = "auto") -> Sink:
    if output == "virtual":
        return VirtualCamSink(size, fps, choice=vcam_backend)
    if output == "window":
        return WindowSink()
    if output == "none":
        return NullSink()
    return FileSink(output, size, fps)
