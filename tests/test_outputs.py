"""Issue 21: no run of `emojicall run` ever costs the user a file. Each case is a reproduction from the issue, run
as a user runs it (the CLI in a subprocess, real clips and images from ../shared), and checks that the input and
any file already there are byte-identical afterwards, and that stderr is exactly one line."""
import os
import shutil
import signal
import subprocess
import sys

import cv2
import numpy as np
import pytest

from conftest import ROOT, shared_path
from emojicall.paths import demo_clip

CLIP = ("media", "videos", "webcam", "pyfeat_single_face_smile.mp4")  # 72 frames, 30 fps, 640x360
FACES = ("media", "face_boxes", "silver_cc_frames")
BENCH = ("media", "videos", "bench_480p.mp4")  # 338 frames, 30 fps, 640x480


def _run(cwd, *args, preexec_fn=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_RUNTIME_DIR": str(cwd)}
    return subprocess.run([sys.executable, "-m", "emojicall", "run", "--detector", "haar", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=env, preexec_fn=preexec_fn)


def _refused(r, *says, code=2):
    assert r.returncode == code and "Traceback" not in r.stderr, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("emojicall: "), r.stderr  # no OpenCV/FFmpeg lines either
    assert all(s in lines[0] for s in says), lines[0]
    assert "wrote" not in r.stdout
    return lines[0]


def _frames(path) -> int:
    import av

    n = 0
    with av.open(str(path)) as c:
        try:
            for _ in c.decode(video=0):
                n += 1
        except av.error.FFmpegError:  # a killed file ends mid-fragment: count what decodes
            pass
    return n


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "clip.mp4"
    shutil.copy(shared_path(*CLIP), path)
    return path


def test_an_output_through_a_folder_that_does_not_exist_is_still_the_input(tmp_path, clip):
    before = clip.read_bytes()
    r = _run(tmp_path, "--camera", "clip.mp4", "--output", "./sub/../clip.mp4", "--max-frames", "10")
    _refused(r, "--output ./sub/../clip.mp4 is the input", "write the output to another file")
    assert clip.read_bytes() == before and not (tmp_path / "sub").exists()  # before: 6 frames, exit 0


def test_the_bundled_demo_clip_is_never_an_output(tmp_path):
    demo = demo_clip()
    before = demo.read_bytes()
    try:
        r = _run(tmp_path, "--camera", "demo", "--output", str(demo), "--max-frames", "5")
        _refused(r, "is the bundled demo clip")
    finally:
        if demo.read_bytes() != before:  # the repository's own asset: put it back whatever happened
            demo.write_bytes(before)
            pytest.fail("the demo clip was rewritten")


def test_events_onto_an_image_of_the_input_folder(tmp_path):
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    for name in sorted(os.listdir(shared_path(*FACES)))[:2]:
        shutil.copy(shared_path(*FACES, name), imgs / name)
    victim = sorted(imgs.iterdir())[0]
    before = victim.read_bytes()
    r = _run(tmp_path, "--camera", "imgs", "--output", "none", "--events", f"imgs/{victim.name}")
    _refused(r, f"--events imgs/{victim.name} is inside the input {imgs}")
    assert victim.read_bytes() == before  # before: replaced by JSON, exit 0


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_a_refused_run_leaves_an_existing_output_alone(tmp_path, clip, overwrite):
    keep = tmp_path / "keep.mp4"
    shutil.copy(clip, keep)
    (tmp_path / "evdir").mkdir()
    r = _run(tmp_path, "--camera", "clip.mp4", "--output", "keep.mp4", "--events", "evdir", "--max-frames", "5",
             *overwrite)
    _refused(r, "already exists" if not overwrite else "--events evdir is a folder")
    assert keep.read_bytes() == clip.read_bytes()  # before: 258 bytes


def test_an_existing_file_is_replaced_only_with_overwrite(tmp_path, clip):
    old = tmp_path / "existing.mp4"
    old.write_bytes(b"the user's own file")
    r = _run(tmp_path, "--camera", "clip.mp4", "--output", "existing.mp4", "--max-frames", "5")
    _refused(r, "--output existing.mp4 already exists", "--overwrite")
    assert old.read_bytes() == b"the user's own file"
    old.chmod(0o640)
    r = _run(tmp_path, "--camera", "clip.mp4", "--output", "existing.mp4", "--max-frames", "5", "--overwrite")
    assert r.returncode == 0 and f"wrote {old}" in r.stdout, r.stderr
    assert _frames(old) == 5 and oct(old.stat().st_mode & 0o777) == oct(0o640)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "existing.mp4"]  # no temporary file left


def test_video_and_events_into_one_file_is_refused(tmp_path, clip):
    r = _run(tmp_path, "--camera", "clip.mp4", "--output", "o.mp4", "--events", "./o.mp4", "--max-frames", "5")
    _refused(r, "--events o.mp4 is the --output file")
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize("output, says", [("/dev/full", "is not a regular file"),
                                          ("out.xyz", "does not write '.xyz' files"),
                                          ("out.gif", "end the name with one of .mp4 (H.264)")])
def test_outputs_it_cannot_write_are_one_line_before_anything_opens(tmp_path, clip, output, says):
    _refused(_run(tmp_path, "--camera", "clip.mp4", "--output", output), says)
    assert sorted(os.listdir(tmp_path)) == ["clip.mp4"]


@pytest.mark.parametrize("size", [(1, 1), (20000, 20)])
def test_a_frame_size_no_video_can_hold_is_one_line(tmp_path, size):
    cv2.imwrite(str(tmp_path / "odd.png"), np.full((size[1], size[0]), 128, np.uint8))
    _refused(_run(tmp_path, "--camera", "odd.png", "--output", "out.mp4"),
             f"cannot write a video of {size[0]}x{size[1]} pixels")
    assert not (tmp_path / "out.mp4").exists()


def test_an_odd_frame_size_is_written_one_pixel_larger(tmp_path):
    cv2.imwrite(str(tmp_path / "odd.png"), np.full((33, 47, 3), 200, np.uint8))
    r = _run(tmp_path, "--camera", "odd.png", "--output", "out.webm")
    assert r.returncode == 0, r.stderr
    import av

    with av.open(str(tmp_path / "out.webm")) as c:
        frame = next(c.decode(video=0))
        assert (c.streams.video[0].codec_context.name, frame.width, frame.height) == ("vp9", 48, 34)


def test_max_frames_must_be_a_count(tmp_path, clip):
    _refused(_run(tmp_path, "--camera", "clip.mp4", "--output", "o.mp4", "--max-frames", "-1"),
             "--max-frames -1 is not a number of frames")
    assert not (tmp_path / "o.mp4").exists()


# --- writes that fail -----------------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 150 KB file system (the issue's full disk); needs root to mount, as CI runs."""
    disk = tmp_path / "small"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=150k", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


def test_a_full_disk_is_an_error_and_leaves_no_partial_file(tmp_path, clip, small_disk):
    r = _run(tmp_path, "--camera", str(shared_path(*BENCH)), "--output", "small/out.mp4")
    line = _refused(r, "cannot write video", "No space left on device", "free some disk space", code=1)
    assert "small/out.mp4" in line and os.listdir(small_disk) == []  # before: "wrote", exit 0, 0 frames


def test_a_full_disk_with_overwrite_keeps_the_old_file(tmp_path, clip, small_disk):
    old = small_disk / "out.mp4"
    old.write_bytes(b"x" * 1000)
    r = _run(tmp_path, "--camera", str(shared_path(*BENCH)), "--output", "small/out.mp4", "--overwrite")
    _refused(r, "No space left on device", code=1)
    assert os.listdir(small_disk) == ["out.mp4"] and old.read_bytes() == b"x" * 1000


@pytest.mark.parametrize("frames", ["72", "20"])  # 72: the disk fills mid-run; 20: as the file is finished
def test_events_on_a_full_disk_are_an_error_too(tmp_path, clip, small_disk, frames):
    fd = os.open(small_disk / "filler", os.O_WRONLY | os.O_CREAT)
    with pytest.raises(OSError):
        while True:
            os.write(fd, b"\0" * 4096)
    os.close(fd)
    r = _run(tmp_path, "--camera", "clip.mp4", "--output", "none", "--events", "small/ev.jsonl",
             "--max-frames", frames)
    _refused(r, "events file", "No space left on device", "nothing was kept", code=1)
    assert os.listdir(small_disk) == ["filler"]


def _limit_file_size():
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG, as on a quota
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))


def test_a_file_size_limit_is_an_error_and_leaves_no_partial_file(tmp_path, clip):
    r = _run(tmp_path, "--camera", "clip.mp4", "--output", "out.webm", preexec_fn=_limit_file_size)
    _refused(r, "cannot write video", "File too large", code=1)
    assert sorted(os.listdir(tmp_path)) == ["clip.mp4"]


# --- a killed recording -----------------------------------------------------------------------------------------

COUNTING = r"""
import sys
from emojicall import cli, sinks

send = sinks.FileSink.send

def counted(self, frame):
    ok = send(self, frame)
    counted.n += 1
    print(counted.n, flush=True)
    return ok

counted.n = 0
sinks.FileSink.send = counted
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_killed_recording_keeps_all_but_its_last_second(tmp_path, overwrite):
    """SIGKILL after 150 frames sent: the MP4 plays every frame but at most the last second's (before: 0 readable
    frames of 2.1 MB). With --overwrite the old file is untouched and the recording is in the temporary file."""
    out = tmp_path / "k.mp4"
    if overwrite:
        out.write_bytes(b"old")
    proc = subprocess.Popen([sys.executable, "-c", COUNTING, "run", "--detector", "haar", "--camera",
                             str(shared_path(*BENCH)), "--output", str(out),
                             *(["--overwrite"] if overwrite else [])],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    for line in proc.stdout:
        if line.strip() == "150":
            proc.send_signal(signal.SIGKILL)
            break
    rest = proc.communicate(timeout=60)[0].split()
    sent = int(rest[-1]) if rest else 150
    assert proc.returncode == -signal.SIGKILL
    recording = out
    if overwrite:
        assert out.read_bytes() == b"old"
        (recording,) = [p for p in tmp_path.iterdir() if p.name.startswith(".k.mp4.") and p.suffix == ".part"]
    kept = _frames(recording)
    print(f"killed after {sent} frames sent: {kept} decode")
    assert sent - 30 <= kept <= sent  # 30 fps: all but the last second


def test_a_folder_it_cannot_write_is_one_line_before_anything_opens(tmp_path, clip):
    locked = tmp_path / "locked"
    locked.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(locked)],
                      capture_output=True).returncode != 0:
        locked.chmod(0o555)  # without root: a folder without write permission (root would write there anyway)
    try:
        _refused(_run(tmp_path, "--camera", "clip.mp4", "--output", "locked/new/out.mp4"),
                 "cannot write --output locked/new/out.mp4: the folder", "is not writable")
    finally:
        subprocess.run(["umount", str(locked)], capture_output=True)
        locked.chmod(0o755)
    assert os.listdir(locked) == []
