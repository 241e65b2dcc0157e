"""The compositor on real emoji art over real frames: the uint8 blend against the float one at and over every
edge, the byte-bounded sprite cache on a face that changes size every frame, rotation with the eye line,
One Euro smoothing on real clips, fades and holds; and emoji art that is too large or cut short."""
import logging
import struct
import zlib

import cv2
import numpy as np
import pytest

from conftest import shared_path
from emojicall.compositor import HOLD_S, Compositor, blend, roll_degrees
from emojicall.emojis import CACHE_BYTES, EmojiPack, Sprite, bundled_pack
from emojicall.errors import UserError
from emojicall.face import Face
from emojicall.labels import LABELS
from emojicall.motion import OneEuro
from emojicall.paths import bundled_emojis
from faulty import clip_frames


def blend_reference(frame: np.ndarray, bgra: np.ndarray, x: int, y: int) -> None:
    """The float blend that blend() replaced (20 ms for a 500 px face): the oracle of its tests and of
    bench/compositing.py."""
    h, w = bgra.shape[:2]
    fh, fw = frame.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(fw, x + w), min(fh, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    src = bgra[y0 - y:y1 - y, x0 - x:x1 - x]
    alpha = src[..., 3:4].astype(np.float32) * (1 / 255.0)
    roi = frame[y0:y1, x0:x1]
    roi[:] = (src[..., :3] * alpha + roi * (1 - alpha)).astype(np.uint8)


def clip(name, n):
    frames = clip_frames(shared_path("media", "videos", *name.split("/")), n)
    assert frames, name
    return frames


@pytest.fixture(scope="module")
def closeup():
    return clip("bench_720p_closeup.mp4", 90)


def onehot(label):
    return np.eye(len(LABELS), dtype=np.float32)[LABELS.index(label)]


def art(label, side):
    img = bundled_pack().images[label]
    return cv2.resize(img, (side, side), interpolation=cv2.INTER_AREA if side < img.shape[0] else cv2.INTER_LINEAR)


# --- the blend ---------------------------------------------------------------------------------------------

def _positions(fw, fh, s):
    """Top-left corners inside, across each edge and corner (partly out) and fully outside, for a side s."""
    xs = {"in": fw // 3, "left": -s // 2, "right": fw - s // 2, "off-left": -s - 3, "off-right": fw + 2,
          "flush-left": 0, "flush-right": fw - s}
    ys = {"in": fh // 3, "top": -s // 2, "bottom": fh - s // 2, "off-top": -s - 3, "off-bottom": fh + 2,
          "flush-top": 0, "flush-bottom": fh - s}
    return [(f"{kx}/{ky}", x, y) for kx, x in xs.items() for ky, y in ys.items()]


@pytest.mark.parametrize("label,side", [("happy", 375), ("angry", 160), ("surprise", 700), ("sad", 41)])
def test_fast_blend_matches_the_float_blend_within_one_grey_level_at_every_edge(closeup, label, side):
    bgra = art(label, side)
    sprite = Sprite.from_bgra(bgra)
    frame = closeup[10]
    fh, fw = frame.shape[:2]
    assert 0 < len(sprite.ys) < 0.1 * side * side  # the art has a rim of partial alpha, and only a rim
    for name, x, y in _positions(fw, fh, side):
        fast, ref = frame.copy(), frame.copy()
        blend(fast, sprite, x, y)
        blend_reference(ref, bgra, x, y)
        diff = np.abs(fast.astype(int) - ref)
        assert diff.max() <= 1, (name, diff.max())
        # Outside the sprite's square nothing moves at all.
        outside = np.ones((fh, fw), bool)
        outside[max(0, y):max(0, y + side), max(0, x):max(0, x + side)] = False
        assert np.array_equal(fast[outside], frame[outside]), name
        if name.startswith("in"):
            assert (diff == 0).mean() > 0.99  # opaque pixels are copied exactly


def test_blend_of_a_plain_bgra_array_keeps_its_old_meaning(closeup):
    bgra = art("fear", 200)
    fast, ref = closeup[0].copy(), closeup[0].copy()
    blend(fast, bgra, 1200, 650)  # over the bottom-right corner
    blend_reference(ref, bgra, 1200, 650)
    assert np.abs(fast.astype(int) - ref).max() <= 1 and not np.array_equal(fast, closeup[0])
    with pytest.raises(ValueError, match="BGRA"):
        blend(fast, bgra[..., :3].copy(), 0, 0)


@pytest.mark.parametrize("opacity", [0.25, 0.5, 0.9])
def test_faded_blend_matches_the_float_blend_with_scaled_alpha(closeup, opacity):
    bgra = art("neutral", 300)
    scaled = bgra.copy()
    scaled[..., 3] = np.round(bgra[..., 3] * opacity).astype(np.uint8)
    fast, ref = closeup[5].copy(), closeup[5].copy()
    blend(fast, Sprite.from_bgra(bgra), -40, 500, opacity)  # over the left and bottom edges
    blend_reference(ref, scaled, -40, 500)
    # Two roundings in uint8 (colour x opacity, frame x (1 - alpha x opacity)) instead of one.
    assert np.abs(fast.astype(int) - ref).max() <= 2


# --- the sprite cache --------------------------------------------------------------------------------------

@pytest.mark.parametrize("bound", [CACHE_BYTES, 3 * 2**20])
def test_cache_stays_within_its_byte_bound_while_the_face_changes_size_every_frame(closeup, bound):
    pack = EmojiPack(bundled_emojis(), cache_bytes=bound)
    comp = Compositor(pack)
    fh, fw = closeup[0].shape[:2]
    peak, sides = 0, set()
    for i, frame in enumerate(closeup):
        s = int(120 + 560 * abs(np.sin(i / 9)))  # grows and shrinks: 120 .. 680 px, a new size every frame
        a = np.radians(25 * np.sin(i / 5))  # and the head rolls
        d = s * 0.2 * np.array([np.cos(a), np.sin(a)])
        c = np.array([fw / 2, fh / 2])
        face = Face(box=(fw // 2 - s // 2, fh // 2 - s // 2, s, s), probs=onehot(LABELS[i // 30]), track_id=1,
                    landmarks={"left_eye": tuple((c - d).astype(int)), "right_eye": tuple((c + d).astype(int))})
        out = comp.draw(frame.copy(), [face])
        assert pack.cached_bytes <= bound, (i, pack.cached_bytes)
        assert pack.cached_bytes == sum(sp.nbytes for sp in pack._cache.values())
        peak = max(peak, pack.cached_bytes)
        sides.add(s)
        if i > 3:
            assert np.any(out != frame)
    assert len(sides) > 60
    assert peak > bound * 0.6  # the bound was reached (sprites were evicted), not merely never approached


def test_size_steps_make_the_cache_hit_and_a_drawn_emoji_is_close_to_the_wanted_size(closeup):
    pack = EmojiPack(bundled_emojis())
    comp = Compositor(pack)
    frame = closeup[0]
    for s in range(300, 340):  # 40 sizes
        comp.draw(frame.copy(), [Face(box=(400, 150, s, s), probs=onehot("happy"))])
    assert len(pack._cache) <= 3
    for s in (50, 137, 400, 611):
        sprite = pack.get("happy", s)
        assert abs(sprite.w / s - 1) <= 0.036 and sprite.w == sprite.h


# --- rotation ----------------------------------------------------------------------------------------------

def _eye_line_degrees(out, frame):
    """The angle of the line through the drawn emoji's two eyes (the two dark blobs of equal size)."""
    changed = np.any(out != frame, axis=2)
    dark = (changed & (out.max(axis=2) < 90)).astype(np.uint8)
    n, _, stats, cents = cv2.connectedComponentsWithStats(dark)
    blobs = sorted(range(1, n), key=lambda k: -stats[k, cv2.CC_STAT_AREA])[:3]
    a, b = min(((i, j) for i in blobs for j in blobs if i < j),
               key=lambda p: abs(stats[p[0], cv2.CC_STAT_AREA] - stats[p[1], cv2.CC_STAT_AREA]))
    (ax, ay), (bx, by) = sorted((tuple(cents[a]), tuple(cents[b])))
    return np.degrees(np.arctan2(by - ay, bx - ax))


@pytest.mark.parametrize("roll", [-30, -10, 0, 17, 40])
def test_the_emoji_turns_with_the_eye_line(closeup, roll):
    frame = closeup[0]
    cx, cy, r = 640, 360, 60
    d = r * np.array([np.cos(np.radians(roll)), np.sin(np.radians(roll))])
    face = Face(box=(cx - 160, cy - 160, 320, 320), probs=onehot("neutral"),
                landmarks={"left_eye": tuple(np.round([cx, cy] + d).astype(int)),
                           "right_eye": tuple(np.round([cx, cy] - d).astype(int))})
    assert abs(roll_degrees(face) - roll) < 1
    out = Compositor(bundled_pack()).draw(frame.copy(), [face])
    assert abs(_eye_line_degrees(out, frame) - roll) <= 2.5  # 3-degree steps: at most 1.5 off, plus measuring


def test_no_landmarks_no_rotation_haar(closeup):
    from emojicall.detectors.haar import HaarDetector

    frame = closeup[0]
    faces = HaarDetector().detect(frame)
    assert faces and all(roll_degrees(f) is None for f in faces)
    for f in faces:
        f.probs = onehot("neutral")
    comp = Compositor(bundled_pack())
    out = comp.draw(frame.copy(), faces)
    assert all(p.angle == 0 for p in comp.placements)
    assert abs(_eye_line_degrees(out, frame)) < 1


# --- smoothing on real clips -------------------------------------------------------------------------------

def _run(name, n, detector="haar"):
    from emojicall import build
    from emojicall.settings import Settings

    pipe = build.pipeline(Settings(detector=detector), detector_fallback=False)
    raw, drawn = [], []
    for frame in clip(name, n):
        _, faces = pipe.process(frame)
        if len(faces) == 1 and len(pipe.compositor.placements) == 1:
            x, y, w, h = faces[0].box
            p = pipe.compositor.placements[0]
            raw.append((x + w / 2, y + h / 2))
            drawn.append((p.cx, p.cy))
    pipe.close()
    return np.array(raw), np.array(drawn)


def test_on_a_still_face_the_drawn_emoji_moves_less_than_the_tracked_box():
    raw, drawn = _run("webcam/pyfeat_single_face_smile.mp4", 72)
    assert len(raw) > 60
    step = lambda c: np.linalg.norm(np.diff(c, axis=0), axis=1)  # noqa: E731
    assert step(drawn).mean() < 0.75 * step(raw).mean()
    assert step(drawn).max() < step(raw).max()


def test_on_a_moving_face_the_drawn_emoji_stays_close_to_the_tracked_box():
    raw, drawn = _run("bench_720p_closeup.mp4", 150)
    assert len(raw) > 140
    gap = np.linalg.norm(drawn - raw, axis=1)
    assert np.percentile(gap, 95) < 0.05 * 390 and gap.mean() < 10  # face ~390 px: within 5% of it


def test_one_euro_holds_a_still_value_and_follows_a_ramp():
    # In face sides, as the compositor uses it: 2 px of noise on a 400 px face, then a move of 0.6 sides/s.
    rng = np.random.default_rng(0)
    still = OneEuro(min_cutoff=1.0, beta=3.0)
    noise = 1 + rng.normal(0, 0.005, 300)
    out = np.array([still(v, 1 / 30) for v in noise])
    assert np.std(np.diff(out[30:])) < 0.3 * np.std(np.diff(noise[30:]))
    slow, quick = OneEuro(1.0, 0.0), OneEuro(1.0, 3.0)
    ramp = np.arange(60) * 0.02
    lag_slow = ramp[-1] - [slow(v, 1 / 30) for v in ramp][-1]
    lag_quick = ramp[-1] - [quick(v, 1 / 30) for v in ramp][-1]
    assert lag_quick < 0.6 * lag_slow
    with pytest.raises(ValueError):
        OneEuro(min_cutoff=0)


# --- fades, cross-fades and holds --------------------------------------------------------------------------

def _tracked(label, tid=1, box=(500, 200, 300, 300)):
    return Face(box=box, probs=onehot(label), track_id=tid)


def _full(frame, label, box=(500, 200, 300, 300)):
    return Compositor(bundled_pack()).draw(frame.copy(), [Face(box=box, probs=onehot(label))])


def test_a_new_face_fades_in_and_then_is_drawn_exactly(closeup):
    frame = closeup[0]
    comp = Compositor(bundled_pack())
    full = _full(frame, "happy")
    strength = []
    for _ in range(4):
        out = comp.draw(frame.copy(), [_tracked("happy")])
        strength.append(np.abs(out.astype(int) - frame).mean() / np.abs(full.astype(int) - frame).mean())
    assert [round(p.opacity, 2) for p in comp.placements] == [1.0]
    assert 0.2 < strength[0] < 0.45 and 0.55 < strength[1] < 0.8, strength
    assert np.array_equal(out, full)


def test_a_label_change_cross_fades_over_150_ms(closeup):
    frame = closeup[0]
    comp = Compositor(bundled_pack())
    for _ in range(5):
        comp.draw(frame.copy(), [_tracked("happy")])
    old, new = _full(frame, "happy").astype(int), _full(frame, "sad").astype(int)
    region = np.any(old != new, axis=2)
    mixes = []
    for _ in range(6):
        out = comp.draw(frame.copy(), [_tracked("sad")]).astype(int)
        # Where the two emoji differ, how far the frame has gone from the old one to the new one.
        mixes.append(float(np.median(((out - old)[region] / np.where((new - old)[region] == 0, 1,
                                                                     (new - old)[region])))))
    assert 0.1 < mixes[0] < 0.35 and mixes[0] < mixes[1] < mixes[2] < mixes[3], mixes
    assert mixes[5] == 1.0 and np.array_equal(out, new)  # 0.15 s = 4.5 frames at 30 fps


def test_a_lost_face_is_held_then_fades_out_and_a_one_frame_miss_does_not_blink(closeup):
    frame = closeup[0]
    comp = Compositor(bundled_pack())
    for _ in range(5):
        full = comp.draw(frame.copy(), [_tracked("happy")])
    assert np.array_equal(comp.draw(frame.copy(), []), full)  # missed once: drawn the same
    comp.draw(frame.copy(), [_tracked("happy")])
    outs = [comp.draw(frame.copy(), []) for _ in range(20)]  # lost
    held = int(HOLD_S * 30)
    assert all(np.array_equal(o, full) for o in outs[:held - 1])
    fading = [o for o in outs[held:] if not np.array_equal(o, frame) and not np.array_equal(o, full)]
    assert 1 <= len(fading) <= 4
    assert np.array_equal(outs[-1], frame) and comp._tracks == {}


def test_a_face_found_again_under_a_new_track_id_keeps_its_emoji(closeup):
    frame = closeup[0]
    comp = Compositor(bundled_pack())
    for _ in range(5):
        full = comp.draw(frame.copy(), [_tracked("happy", tid=1)])
    comp.draw(frame.copy(), [])
    out = comp.draw(frame.copy(), [_tracked("happy", tid=7, box=(505, 203, 300, 300))])
    assert [p.track_id for p in comp.placements] == [7] and comp.placements[0].opacity == 1.0
    assert np.abs(out.astype(int) - full).mean() < 2  # no fade-in from nothing, no second emoji


def test_time_comes_from_the_caller_and_the_output_is_deterministic(closeup):
    frames = closeup[:30]

    def run(fps):
        comp = Compositor(bundled_pack())
        outs = []
        for i, f in enumerate(frames):
            faces = [_tracked("happy")] if i < 10 else []
            outs.append(comp.draw(f.copy(), faces, t=i / fps))
        return [np.array_equal(o, f) for o, f in zip(outs, frames)]

    at30, at60 = run(30), run(60)
    assert at30 == run(30)
    # Lost at frame 10: held 0.3 s then faded over 0.1 s, so gone after ~13 frames at 30 fps, ~25 at 60 fps.
    assert 10 + 10 <= at30.index(True, 10) <= 10 + 14
    assert True not in at60[10:]  # 0.4 s is 24 frames at 60 fps: still on screen at the clip's end


# --- emoji art that is too large or cut short --------------------------------------------------------------

def _huge_png(path, side=20000):
    """A real 20000 x 20000 1-bit PNG: 48 kB on disk, 400 megapixels once decoded."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    z = zlib.compressobj(9)
    row = b"\0" * (1 + side // 8)
    body = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", body) + chunk(b"IEND", b""))


@pytest.fixture
def broken_pack(tmp_path, request):
    import shutil

    pack = tmp_path / "pack"
    shutil.copytree(bundled_emojis(), pack)
    bad = pack / "happy.png"
    if request.param == "huge":
        _huge_png(bad)
    else:
        data = bad.read_bytes()
        bad.write_bytes(data[:len(data) // 2])
    return pack, bad, request.param


@pytest.mark.parametrize("broken_pack", ["huge", "truncated"], indirect=True)
def test_art_too_large_or_cut_short_is_refused_in_one_line_naming_the_file(broken_pack):
    pack, bad, kind = broken_pack
    with pytest.raises(UserError) as err:
        EmojiPack(pack)
    line = str(err.value)
    assert "\n" not in line and str(bad) in line
    if kind == "huge":
        assert "20000x20000" in line and "4096x4096" in line  # refused from the header, before decoding
    else:
        assert "unreadable" in line and "replace it" in line


@pytest.mark.parametrize("broken_pack", ["huge", "truncated"], indirect=True)
def test_tray_icon_falls_back_to_the_bundled_art_with_one_log_line(broken_pack, caplog):
    from emojicall.tray.icon import icon_image

    pack, bad, _ = broken_pack
    with caplog.at_level(logging.WARNING):
        img = icon_image("happy", folder=str(pack))
        icon_image("happy", folder=str(pack), greyed=True)
    assert np.array_equal(np.asarray(img), np.asarray(icon_image("happy")))
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and str(bad) in lines[0] and "bundled" in lines[0], lines
    other = icon_image("sad", folder=str(pack))  # the rest of the user's pack still shows
    assert other.size == img.size
