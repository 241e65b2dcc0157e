"""Property tests: face crops and emoji compositing for random frame sizes and boxes anywhere (inside, across
the edges, fully outside, degenerate), with the bundled emoji art."""
import cv2
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from emojicall.compositor import Compositor, blend
from emojicall.settings import STYLES
from emojicall.crop import crop_batch, crop_face, square_box
from emojicall.emojis import bundled_pack, snap_side
from emojicall.face import Face

SETTINGS = settings(max_examples=150, deadline=None)
sizes = st.tuples(st.integers(1, 160), st.integers(1, 160))  # frame width, height


@st.composite
def frame_and_box(draw, channels=st.sampled_from([None, 1, 3, 4])):
    w, h = draw(sizes)
    c = draw(channels)
    shape = (h, w) if c is None else (h, w, c)
    seed = draw(st.integers(0, 2**32 - 1))
    frame = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    box = (draw(st.integers(-2 * w, 2 * w)), draw(st.integers(-2 * h, 2 * h)),
           draw(st.integers(0, 2 * w + 2)), draw(st.integers(0, 2 * h + 2)))
    return frame, box


@SETTINGS
@given(box=st.tuples(st.integers(-500, 500), st.integers(-500, 500), st.integers(0, 400), st.integers(0, 400)),
       margin=st.floats(0, 0.5))
def test_square_box_is_a_square_around_the_box(box, margin):
    x0, y0, side = square_box(box, margin)
    x, y, w, h = box
    assert side >= 2 and side >= max(w, h)
    assert abs((x0 + side / 2) - (x + w / 2)) <= 1 and abs((y0 + side / 2) - (y + h / 2)) <= 1


@SETTINGS
@given(fb=frame_and_box(channels=st.just(None)), size=st.sampled_from([1, 48, 64]))
def test_crop_is_always_size_by_size_uint8(fb, size):
    gray, box = fb
    crop = crop_face(gray, box, size)
    assert crop.shape == (size, size) and crop.dtype == np.uint8


@SETTINGS
@given(fb=frame_and_box(channels=st.just(None)), value=st.integers(0, 255))
def test_crop_of_a_plain_frame_is_plain_and_edges_are_replicated_not_black(fb, value):
    gray, box = fb
    gray[:] = value
    crop = crop_face(gray, box, 48)
    x0, y0, side = square_box(box)
    # A square that ends right at the frame's edge still samples the edge pixel (bilinear reads one beyond).
    overlaps = x0 < gray.shape[1] and y0 < gray.shape[0] and x0 + side >= 0 and y0 + side >= 0
    assert np.all(crop == (value if overlaps else 0))


@SETTINGS
@given(fb=frame_and_box(channels=st.just(None)))
def test_crop_keeps_the_left_to_right_order_of_the_frame(fb):
    gray, box = fb
    h, w = gray.shape
    ramp = np.tile(np.linspace(0, 255, w).astype(np.uint8), (h, 1))  # brighter to the right
    crop = crop_face(ramp, box, 48).astype(int)
    assert np.all(np.diff(crop, axis=1) >= -1)  # resampling rounds; it never flips the order
    assert np.all(np.abs(crop - crop[:1]) <= 1)  # and adds nothing vertically (OpenCV's fixed-point rounding)


@SETTINGS
@given(fb=frame_and_box(), n=st.integers(0, 4))
def test_crop_batch_takes_any_frame_format(fb, n):
    frame, box = fb
    batch = crop_batch(frame, [box] * n, 48)
    assert batch.shape == (n, 48, 48, 1) and batch.dtype == np.float32
    assert np.all((batch >= 0) & (batch <= 255))
    if n:
        assert np.all(batch[0] == batch[-1])


@st.composite
def frame_and_sprite(draw):
    w, h = draw(sizes)
    sw, sh = draw(st.integers(1, 80)), draw(st.integers(1, 80))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    sprite = rng.integers(0, 256, (sh, sw, 4), dtype=np.uint8)
    sprite[..., 3] = rng.choice(np.array([0, 255, 128], np.uint8), (sh, sw))  # transparent, opaque, half
    x, y = draw(st.integers(-sw - 5, w + 5)), draw(st.integers(-sh - 5, h + 5))
    return frame, sprite, x, y


@SETTINGS
@given(fss=frame_and_sprite())
def test_blend_touches_only_the_sprite_rectangle_and_respects_alpha(fss):
    frame, sprite, x, y = fss
    before = frame.copy()
    blend(frame, sprite, x, y)
    assert frame.shape == before.shape and frame.dtype == np.uint8
    h, w = frame.shape[:2]
    # The sprite laid on a canvas the size of the frame, clipped the same way a reader would expect.
    alpha = np.full((h, w), -1)
    color = np.zeros((h, w, 3), np.uint8)
    ys, xs = np.mgrid[0:sprite.shape[0], 0:sprite.shape[1]]
    inside = (ys + y >= 0) & (ys + y < h) & (xs + x >= 0) & (xs + x < w)
    alpha[ys[inside] + y, xs[inside] + x] = sprite[..., 3][inside]
    color[ys[inside] + y, xs[inside] + x] = sprite[..., :3][inside]
    untouched = (alpha == -1) | (alpha == 0)
    assert np.array_equal(frame[untouched], before[untouched])
    assert np.array_equal(frame[alpha == 255], color[alpha == 255])
    half = alpha == 128
    expected = color[half] * (128 / 255) + before[half] * (1 - 128 / 255)
    assert np.all(np.abs(frame[half].astype(float) - expected) <= 1)


PACK = bundled_pack()


@st.composite
def faces_on_a_frame(draw):
    w, h = draw(sizes)
    n = draw(st.integers(0, 6))
    faces = []
    for _ in range(n):
        box = (draw(st.integers(-w, 2 * w)), draw(st.integers(-h, 2 * h)),
               draw(st.integers(0, 2 * w)), draw(st.integers(0, 2 * h)))
        probs = draw(st.none() | st.integers(0, 6).map(lambda k: np.eye(7, dtype=np.float32)[k]))
        faces.append(Face(box=box, probs=probs))
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8), faces


def _footprint(style, face, scale=1.25):
    """Where the compositor may draw for one face: (x0, y0, x1, y1). Sides are snapped to the pack's steps and
    the sprite is centred where the unsnapped one would be."""
    x, y, w, h = face.box
    m = max(w, h)
    if style == "emoji":
        side, cx, cy = snap_side(m * scale), x + w / 2, y + h / 2
    else:
        side, cx, cy = snap_side(max(16, m * 0.45)), x + w / 2 + m / 2, y + h / 2 - m / 2
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    return x0, y0, x0 + side, y0 + side


@settings(max_examples=100, deadline=None)
@given(ff=faces_on_a_frame(), style=st.sampled_from(STYLES), show_label=st.booleans())
def test_compositor_draws_only_near_classified_faces_and_never_fails(ff, style, show_label):
    frame, faces = ff
    before = frame.copy()
    out = Compositor(PACK, style=style, show_label=show_label).draw(frame, faces)
    assert out.shape == before.shape and out.dtype == np.uint8
    classified = [f for f in faces if f.probs is not None]
    changed = np.any(out != before, axis=2)
    if not classified:
        assert not changed.any()
    elif style != "label" and not show_label:
        allowed = np.zeros_like(changed)
        for f in classified:
            x0, y0, x1, y1 = _footprint(style, f)
            allowed[max(0, y0):max(0, y1), max(0, x0):max(0, x1)] = True
        assert not (changed & ~allowed).any()


def test_emoji_lands_where_the_face_is():
    frame = np.zeros((240, 320, 3), np.uint8)
    face = Face(box=(100, 60, 80, 80), probs=np.eye(7, dtype=np.float32)[3])
    out = Compositor(PACK, style="emoji").draw(frame.copy(), [face])
    ys, xs = np.nonzero(np.any(out != frame, axis=2))
    # The Noto glyph fills its canvas but for a margin: the drawn area is centred on the face.
    assert abs((xs.min() + xs.max()) / 2 - 140) <= 3 and abs((ys.min() + ys.max()) / 2 - 100) <= 3
    assert cv2.countNonZero(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)) > 0.6 * 80 * 80
