"""Video files through PyAV (FFmpeg's own bindings, whose wheels carry libx264): H.264 in yuv420p, which every
browser and messenger plays, or VP9 in WebM; Motion JPEG in .avi for editing tools.

MP4 is written fragmented (a self-contained piece at every keyframe, one every half second): a recording whose
process is killed keeps all but its last second, where a plain MP4 without its closing index keeps nothing.
PyAV writes through our own file object, not a path: FFmpeg's file protocol drops write errors (a full disk
gave a file with no frames and no error), ours raise them.
"""
from __future__ import annotations

import os
from fractions import Fraction

import numpy as np

from .errors import UserError

# suffix: (what the user gets, FFmpeg container, encoder)
FORMATS = {".mp4": ("H.264", "mp4", "libx264"), ".m4v": ("H.264", "mp4", "libx264"),
           ".mov": ("H.264", "mov", "libx264"), ".mkv": ("H.264", "matroska", "libx264"),
           ".webm": ("VP9", "webm", "libvpx-vp9"), ".avi": ("Motion JPEG", "avi", "mjpeg")}
SUFFIXES = {s: f[0] for s, f in FORMATS.items()}
FRAGMENTED = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}
ENCODER_OPTIONS = {
    # veryfast keeps up with a 720p camera on two cores; its 10-frame lookahead delays output by a third of a
    # second, which a kill loses on top of the fragment in progress.
    "libx264": {"preset": "veryfast", "crf": "23"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8", "row-mt": "1", "crf": "32", "b": "0"},
    "mjpeg": {"qmin": "2", "qmax": "3"},  # near the source (mean error 1.6/255 on the demo clip)
}
FIX = "free some disk space or write to another folder"
# The highest level of H.264 and of VP9 (6.2) holds 8192 pixels a side and 8192x4352 in all, what players'
# decoders are built for; under 16 pixels a side (one macroblock) a frame shows nothing anybody could see.
MIN_SIDE, MAX_SIDE, MAX_PIXELS = 16, 8192, 8192 * 4352


def encodable_size(size: tuple[int, int]) -> tuple[int, int]:
    """The frame size the file gets: yuv420p needs even sides, so an odd side gains one pixel of letterbox."""
    w, h = size
    if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE and w * h <= MAX_PIXELS):
        raise UserError(f"cannot write a video of {w}x{h} pixels (from {MIN_SIDE} to {MAX_SIDE} pixels a side, "
                        f"8192x4352 at most)", "resize the input, or use --output none")
    return w + w % 2, h + h % 2


class _File:
    """What PyAV writes through: every byte goes to the OS at once (what was muxed survives a kill), and an
    OS error (disk full, file too large, I/O error) raises."""

    def __init__(self, path):
        # O_BINARY: Windows would otherwise turn every 0x0A byte of the video into 0x0D 0x0A
        self.fd = os.open(path, os.O_WRONLY | os.O_TRUNC | getattr(os, "O_BINARY", 0))

    def write(self, data) -> int:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return os.lseek(self.fd, offset, whence)

    def tell(self) -> int:
        return os.lseek(self.fd, 0, os.SEEK_CUR)

    def close(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)


class VideoWriter:
    """BGR frames of `size` into `out`. A write that fails removes the file and raises one UserError; close()
    finishes the file and puts it in place, or, when no frame was written, removes it."""

    def __init__(self, out, size: tuple[int, int], fps: float):  # out: an outputs.OutputFile
        import av

        self.out, self.size, self.frames = out, encodable_size(size), 0
        _, container, codec = FORMATS[out.target.suffix.lower()]
        rate = Fraction(fps).limit_denominator(1001) if fps and fps > 0 else Fraction(30)
        self._file = _File(out.open())
        try:
            self._container = av.open(self._file, "w", format=container,
                                      options=FRAGMENTED if container in ("mp4", "mov") else {})
            self._stream = self._container.add_stream(codec, rate=rate)
            self._stream.width, self._stream.height = self.size
            self._stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
            self._stream.codec_context.gop_size = max(1, round(float(rate) / 2))
            self._stream.codec_context.options = ENCODER_OPTIONS[codec]
        except Exception as exc:  # noqa: BLE001 - any FFmpeg refusal is this file's failure, said once
            raise self._fail(exc) from None

    def write(self, frame: np.ndarray) -> None:
        import av

        try:
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="bgr24")
            self._mux(self._stream.encode(picture))
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc) from None
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder, finish the container and rename the file into place. A failure here is kept in
        `out.error` as well as raised: the stream closes its sink where nobody could hear an exception."""
        if self._file.fd < 0:
            return
        if self.frames == 0:  # nothing recorded: an empty video must not replace anything
            self._abandon()
            self.out.discard()
            return
        try:
            self._mux(self._stream.encode(None))
            self._container.close()
            os.fsync(self._file.fd)
            self._file.close()
            self.out.finish()
        except Exception as exc:  # noqa: BLE001
            error = self._fail(exc)
            self.out.error = f"{error}: {FIX}"
            raise error from None

    def _mux(self, packets) -> None:
        for packet in packets:
            self._container.mux(packet)

    def _abandon(self) -> None:
        try:
            self._container.close()
        except Exception:  # noqa: BLE001 - the file goes away anyway
            pass
        self._file.close()

    def _fail(self, exc: Exception) -> UserError:
        """Give up on the file: close and remove it, and say why (the sink adds FIX where the stream reports it)."""
        if getattr(self, "_container", None) is not None:
            self._abandon()
        self._file.close()
        self.out.discard()
        why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return UserError(f"cannot write video {self.out.target} ({why}); nothing was kept")
