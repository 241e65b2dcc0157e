"""Which pyvirtualcam backend and device to open (`--vcam-backend auto|v4l2loopback|obs|unitycapture`).

The name people see in their meeting app is the point: on Linux the v4l2loopback device labelled EmojiCam;
on Windows, Unity Capture registered under the name EmojiCam (OBS's device is always "OBS Virtual Camera");
on macOS only OBS exists. `auto` tries, in order, what gives the name EmojiCam, then what does not.

macOS: pyvirtualcam >= 0.14 drives OBS 30+'s camera extension on macOS 13 and newer (pyvirtualcam PR #134,
Sept 2025, which fixed issue #111 "does not detect OBS on macOS 14"); its author tested it with OBS 31.1,
pyvirtualcam's CI no longer runs on macOS, and this project has not run it on a Mac either.
"""
from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import Problem, UserError
from .frames import fit
from .sinks import Sink

CHOICES = ("auto", "v4l2loopback", "obs", "unitycapture")
NAME = "EmojiCam"
MODPROBE = f"sudo modprobe v4l2loopback devices=1 video_nr=10 card_label={NAME} exclusive_caps=1"
UNITY_DEFAULT = "Unity Video Capture"
# Unity Capture's own registration, run as administrator in its Install folder (the 32-bit filter too, for
# 32-bit apps); the name is what DirectShow lists and what pyvirtualcam's `device` then selects.
UNITY_REGISTER = f'regsvr32 "UnityCaptureFilter64bit.dll" "/i:UnityCaptureName={NAME}"'
UNITY_REGISTER_32 = f'regsvr32 "UnityCaptureFilter32bit.dll" "/i:UnityCaptureName={NAME}"'
OBS_MACOS = ("install OBS Studio 30 or newer into /Applications, start it, click Start Virtual Camera once (allow "
             "the camera extension in System Settings > Privacy & Security), then Stop and quit OBS")
ZOOM_NOTE = "Chrome needs exclusive_caps=1; if Zoom does not list EmojiCam, load it again without exclusive_caps=1"
OBS_WINDOWS = "install OBS Studio 26 or newer (its virtual camera is listed as \"OBS Virtual Camera\")"


@dataclass(frozen=True)
class Attempt:
    backend: str
    device: str | None  # None: the backend's first device
    shown_as: str       # the camera's name in meeting apps


def registered_backends() -> list[str]:
    import pyvirtualcam.camera

    return list(pyvirtualcam.camera.BACKENDS)


def find_labelled_device(label: str = NAME) -> str | None:
    """/dev/videoN of the v4l2loopback device whose card label is `label` (Linux only)."""
    for name_file in sorted(Path("/sys/class/video4linux").glob("video*/name")):
        try:
            if name_file.read_text().strip() == label:
                return f"/dev/{name_file.parent.name}"
        except OSError:
            continue
    return None


def plan(choice: str = "auto") -> list[Attempt]:
    """The (backend, device) pairs to try, best first, among the backends pyvirtualcam has on this system."""
    have = registered_backends()
    if choice not in CHOICES and choice not in have:  # any backend given to pyvirtualcam.register_backend too
        raise UserError(f"--vcam-backend {choice!r} is not one of {', '.join(CHOICES)}")
    if choice != "auto" and choice not in have:
        raise UserError(f"--vcam-backend {choice} is not available on {platform.system()} (pyvirtualcam has "
                        f"{', '.join(have) or 'no backend'} here): use auto")
    attempts = []
    if "v4l2loopback" in have and choice in ("auto", "v4l2loopback"):
        device = find_labelled_device()
        attempts.append(Attempt("v4l2loopback", device, NAME if device else "the first v4l2loopback device"))
    if "unitycapture" in have and choice in ("auto", "unitycapture"):
        attempts.append(Attempt("unitycapture", NAME, NAME))
    if "obs" in have and choice in ("auto", "obs"):
        attempts.append(Attempt("obs", None, "OBS Virtual Camera"))
    if "unitycapture" in have and choice in ("auto", "unitycapture"):
        attempts.append(Attempt("unitycapture", None, f"{UNITY_DEFAULT} (registered without a name)"))
    if choice == "auto":  # backends registered by others (pyvirtualcam.register_backend), after the known ones
        attempts += [Attempt(name, None, name) for name in have if name not in CHOICES]
    elif choice not in CHOICES:
        attempts.append(Attempt(choice, None, choice))
    return attempts


def linux_problem() -> Problem | None:
    """Linux: what keeps EmojiCam's v4l2loopback device from use, or None when nothing visible does."""
    import os

    if not Path("/sys/module/v4l2loopback").exists():
        return Problem("v4l2loopback is not loaded (no /sys/module/v4l2loopback)",
                       f"`{MODPROBE}` (Debian/Ubuntu: `sudo apt install v4l2loopback-dkms` first). {ZOOM_NOTE}")
    device = find_labelled_device()
    if device is None:
        return Problem(f"v4l2loopback is loaded, but no device is labelled {NAME}",
                       f"`sudo modprobe -r v4l2loopback` then `{MODPROBE}`. {ZOOM_NOTE}")
    if not os.access(device, os.W_OK):
        return Problem(f"{device} is labelled {NAME} but not writable by you",
                       "`sudo usermod -aG video $USER`, then log out and in again")
    return None


def open_problem(exc: BaseException) -> Problem:
    """Why the virtual camera did not open, worded as `emojicall doctor` words it: on Linux the v4l2loopback
    diagnosis says what exactly is off."""
    found = linux_problem() if platform.system() == "Linux" else None
    if found is not None:
        return found
    return Problem.of(exc) if isinstance(exc, UserError) else Problem(f"cannot open it ({exc})", help_line())


def help_line() -> str:
    """How to get a virtual camera on this system, in one line."""
    system = platform.system()
    if system == "Windows":
        return (f"for a camera named {NAME}, register Unity Capture as administrator in its Install folder: "
                f"`{UNITY_REGISTER}` (and `{UNITY_REGISTER_32}` for 32-bit apps); or {OBS_WINDOWS}")
    if system == "Darwin":
        return OBS_MACOS
    return f"load v4l2loopback: `{MODPROBE}` (some Zoom builds need it without exclusive_caps=1)"


def open_camera(choice: str, width: int, height: int, fps: float, fmt=None):
    """(pyvirtualcam.Camera, the Attempt that worked). UserError with every backend's reason otherwise."""
    import pyvirtualcam

    fmt = pyvirtualcam.PixelFormat.BGR if fmt is None else fmt
    reasons = []
    for attempt in plan(choice):
        try:
            cam = pyvirtualcam.Camera(width, height, fps, fmt=fmt, backend=attempt.backend, device=attempt.device)
        except (RuntimeError, ValueError) as exc:
            where = f" {attempt.device}" if attempt.device else ""
            reasons.append(f"{attempt.backend}{where}: " + " / ".join(str(exc).splitlines()).removeprefix(
                f"'{attempt.backend}' backend: "))
            continue
        return cam, attempt
    raise UserError(f"no virtual camera ({'; '.join(reasons) or 'no backend'}): {help_line()}")


def describe(choice: str = "auto") -> str:
    """One line for `doctor`: what --vcam-backend CHOICE would open here, in order, and how to get EmojiCam."""
    try:
        attempts = plan(choice)
    except UserError as exc:
        return str(exc)
    if not attempts:
        return f"pyvirtualcam has no virtual camera backend on {platform.system()}"
    order = " then ".join(f"{a.backend} ({a.shown_as})" for a in attempts)
    line = f"virtual camera backend {choice}: tries {order}"
    if platform.system() == "Windows" and any(a.backend == "unitycapture" for a in attempts):
        line += f"; to be listed as {NAME}, register Unity Capture with `{UNITY_REGISTER}`"
    elif platform.system() == "Darwin":
        line += "; macOS names the device OBS Virtual Camera (pyvirtualcam >= 0.14 with OBS >= 30 on macOS 13+)"
    return line


class VirtualCamSink(Sink):
    """pyvirtualcam.Camera fed OpenCV's BGR frames as PixelFormat.BGR: no conversion on our side. `choice` is
    --vcam-backend (plan() picks the backend and device that show the camera as EmojiCam where it can)."""

    area = "virtual camera"

    def __init__(self, size: tuple[int, int], fps: float, choice: str = "auto"):
        self.size, self.paced_fps = size, fps  # call apps treat a camera that stops delivering as broken
        self.cam, attempt = open_camera(choice, size[0], size[1], fps)
        self.shown_as, self.device, self.fix = attempt.shown_as, self.cam.device, help_line()

    def send(self, frame):
        self.cam.send(np.ascontiguousarray(fit(frame, self.size)))
        return True

    def close(self):
        try:
            self.cam.close()
        finally:  # a backend whose close raised must not be closed again by Camera.__del__ at exit
            self.cam._backend = None
