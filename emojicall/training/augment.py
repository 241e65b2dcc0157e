"""Training-time augmentation, as TensorFlow ops inside tf.data (runs beside the training step on the CPU).

Every random draw is stateless and seeded from (run seed, global batch number), so a run is reproducible and a
resumed run continues the same random stream instead of replaying epoch 0's.
"""
from __future__ import annotations

import math

import numpy as np

POLICIES = ("shift", "affine", "webcam")
CLASS_WEIGHTS = ("none", "sqrt", "balanced")

# Affine policy ranges, on the 48x48 source: faces from a detector are rotated, off-centre and loosely framed.
ROTATE_DEG = 12.0
ZOOM = (0.9, 1.2)       # >1 zooms in: the random 40..44 px crops of the published recipes, resized back
SHIFT_PX = 4.0
CONTRAST = (0.7, 1.3)
BRIGHTNESS = 25.0       # in 0..255 gray levels

# Webcam policy. Framing jitter from models/fernet/crop.json (calibrate.py on 2,000 training faces): around the
# FER frame, detector boxes scatter with robust sd 0.02-0.07 box widths (x), 0.03-0.08 (y) and 0.10-0.16 in log
# scale, i.e. ~5% of the frame side in shift; the crop's eye alignment leaves only FER's own tilt (sd ~6 deg).
WEBCAM_SHIFT_SD = 0.06       # of the frame side, normal, clipped at 2.5 sd
WEBCAM_LOG_ZOOM_SD = 0.14    # normal in log scale, clipped at 2.5 sd
WEBCAM_ROTATE_DEG = 10.0
# Degradations, each on a random share of the batch: webcams blur, add sensor noise, compress, and film in
# poor light with auto-exposure gamma.
BLUR_SIGMA = (0.4, 1.4)      # output pixels (a 44 px face), gaussian
NOISE_SD = (2.0, 10.0)       # gray levels
JPEG_QUALITY = (25, 85)
GAMMA = (0.6, 1.6)
DARK = (0.25, 0.8)           # brightness multiplier for low light (noise added after, as in a dark room)
P_DEGRADE = 0.35             # probability of each degradation (the recipe's degrade_p overrides it)


def class_weights(labels: np.ndarray, mode: str, n_classes: int) -> np.ndarray:
    """Per-class loss weights, scaled so the mean weight over the training samples is 1 (the learning rate
    keeps its meaning). 'sqrt' is the mild inverse-frequency weighting; 'balanced' the full one."""
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    if mode == "none":
        w = np.ones(n_classes)
    elif mode == "sqrt":
        w = 1 / np.sqrt(np.maximum(counts, 1))
    elif mode == "balanced":
        w = 1 / np.maximum(counts, 1)
    else:
        raise ValueError(f"class weight mode '{mode}': use one of {', '.join(CLASS_WEIGHTS)}")
    return (w / (w[labels].mean() if len(labels) else 1)).astype(np.float32)


def augment_batch(x, y, w, step, *, seed: int, policy: str, size: int, mixup: float = 0.0,
                  degrade_p: float = P_DEGRADE):
    """x: (B, 48, 48, 1) float32 0..255 -> (B, size, size, 1); y one-hot, w sample weights, step the batch number."""
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(tf.stack([tf.cast(seed, tf.int64), step]), 4)
    if policy == "shift":
        x = _shift(x, seeds[0], size)
    elif policy == "affine":
        x = _affine(x, seeds[0], size)
        x = _photometric(x, seeds[1])
    elif policy == "webcam":
        x = _affine(x, seeds[0], size, webcam=True)
        x = _photometric(x, seeds[1])
        x = _degrade(x, seeds[3], degrade_p)
    else:
        raise ValueError(f"augmentation policy '{policy}': use one of {', '.join(POLICIES)}")
    if mixup > 0:
        x, y, w = _mixup(x, y, w, seeds[2], mixup)
    return x, y, w


def _shift(x, seed, size):
    """The CNN's original recipe: per-image horizontal flip, one +-4 px reflect-padded shift per batch."""
    import tensorflow as tf

    s1, s2 = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    flip = tf.random.stateless_uniform([tf.shape(x)[0], 1, 1, 1], s1) < 0.5
    x = tf.where(flip, tf.image.flip_left_right(x), x)
    if x.shape[1] != size:
        x = tf.image.resize(x, [size, size])
    padded = tf.pad(x, [[0, 0], [4, 4], [4, 4], [0, 0]], mode="REFLECT")
    d = tf.random.stateless_uniform([2], s2, 0, 9, tf.int32)
    return padded[:, d[0]:d[0] + size, d[1]:d[1] + size, :]


def _affine(x, seed, size, webcam: bool = False):
    """One random similarity transform per image (flip, rotation, zoom, shift), sampled straight into the
    size x size output: a single resampling, and the identity maps the whole 48 px face onto `size` exactly
    as cv2.resize does at test time."""
    import tensorflow as tf

    n = tf.shape(x)[0]
    src = tf.cast(tf.shape(x)[1], tf.float32)
    u = tf.random.stateless_uniform([n, 5], seed)
    flip = tf.where(u[:, 2] < 0.5, -1.0, 1.0)
    if webcam:
        g = tf.clip_by_value(tf.random.stateless_normal([n, 3], seed + 1), -2.5, 2.5)
        angle = (u[:, 0] * 2 - 1) * (WEBCAM_ROTATE_DEG * math.pi / 180)
        zoom = tf.exp(g[:, 0] * WEBCAM_LOG_ZOOM_SD)
        tx, ty = g[:, 1] * WEBCAM_SHIFT_SD * src, g[:, 2] * WEBCAM_SHIFT_SD * src
    else:
        angle = (u[:, 0] * 2 - 1) * (ROTATE_DEG * math.pi / 180)
        zoom = ZOOM[0] + u[:, 1] * (ZOOM[1] - ZOOM[0])
        tx, ty = (u[:, 3] * 2 - 1) * SHIFT_PX, (u[:, 4] * 2 - 1) * SHIFT_PX
    k = src / size / zoom  # input pixels per output pixel
    cos, sin = tf.cos(angle) * k, tf.sin(angle) * k
    c_out, c_in = (size - 1) / 2, (src - 1) / 2
    # Output pixel (xo, yo) samples input (a0 xo + a1 yo + a2, b0 xo + b1 yo + b2), rotating about the centres.
    a0, a1, b0, b1 = cos * flip, -sin, sin * flip, cos
    a2 = c_in + tx - a0 * c_out - a1 * c_out
    b2 = c_in + ty - b0 * c_out - b1 * c_out
    zeros = tf.zeros_like(a0)
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=x, transforms=transforms, output_shape=tf.constant([size, size]), fill_value=0.0,
        interpolation="BILINEAR", fill_mode="NEAREST")


def _photometric(x, seed):
    """Random contrast about the image mean and brightness offset: webcams differ far more than FER's photos."""
    import tensorflow as tf

    u = tf.random.stateless_uniform([tf.shape(x)[0], 1, 1, 2], seed)
    contrast = CONTRAST[0] + u[..., :1] * (CONTRAST[1] - CONTRAST[0])
    brightness = (u[..., 1:] * 2 - 1) * BRIGHTNESS
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return tf.clip_by_value((x - mean) * contrast + mean + brightness, 0.0, 255.0)


def _degrade(x, seed, p: float):
    """Blur, low light, gamma, noise and JPEG, each applied to a random share of the images."""
    import tensorflow as tf

    n = tf.shape(x)[0]
    s = tf.unstack(tf.random.experimental.stateless_split(seed, 6))
    u = tf.random.stateless_uniform([n, 1, 1, 6], s[0])
    on = lambda k: u[..., k:k + 1] < p  # noqa: E731
    # Blur: a 5x5 gaussian per image, sigma drawn per image (depthwise over the batch as channels).
    sigma = BLUR_SIGMA[0] + tf.random.stateless_uniform([n], s[1]) * (BLUR_SIGMA[1] - BLUR_SIGMA[0])
    r = tf.range(-2.0, 3.0)
    k1 = tf.exp(-(r[None, :] ** 2) / (2 * sigma[:, None] ** 2))
    k1 = k1 / tf.reduce_sum(k1, axis=1, keepdims=True)
    k2 = k1[:, :, None] * k1[:, None, :]                       # (n, 5, 5)
    kern = tf.transpose(k2, [1, 2, 0])[:, :, :, None]          # (5, 5, n, 1)
    xt = tf.transpose(x, [3, 1, 2, 0])                         # (1, H, W, n)
    xt = tf.pad(xt, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="SYMMETRIC")
    blurred = tf.transpose(tf.nn.depthwise_conv2d(xt, kern, [1, 1, 1, 1], "VALID"), [3, 1, 2, 0])
    x = tf.where(on(0), blurred, x)
    dark = DARK[0] + u[..., 1:2] * (DARK[1] - DARK[0])
    x = tf.where(on(2), x * dark, x)
    gamma = tf.exp(math.log(GAMMA[0]) + u[..., 3:4] * (math.log(GAMMA[1]) - math.log(GAMMA[0])))
    x = tf.where(on(4), 255.0 * tf.pow(tf.clip_by_value(x / 255.0, 1e-4, 1.0), gamma), x)
    sd = NOISE_SD[0] + tf.random.stateless_uniform([n, 1, 1, 1], s[2]) * (NOISE_SD[1] - NOISE_SD[0])
    noisy = x + tf.random.stateless_normal(tf.shape(x), s[3]) * sd
    x = tf.clip_by_value(tf.where(on(5) | on(2), noisy, x), 0.0, 255.0)
    q = tf.random.stateless_uniform([n], s[4], JPEG_QUALITY[0], JPEG_QUALITY[1] + 1, tf.int32)
    pj = tf.random.stateless_uniform([n], s[5]) < p

    def jpeg(args):
        img, quality, apply = args
        enc = tf.image.adjust_jpeg_quality(tf.cast(img, tf.uint8), quality)
        return tf.where(apply, tf.cast(enc, tf.float32), img)
    return tf.map_fn(jpeg, (tf.round(x), q, pj), fn_output_signature=tf.float32)


def _mixup(x, y, w, seed, alpha):
    import tensorflow as tf

    s1, s2, s3 = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    g1 = tf.random.stateless_gamma([], s1, alpha)
    g2 = tf.random.stateless_gamma([], s2, alpha)
    lam = g1 / (g1 + g2)
    perm = tf.argsort(tf.random.stateless_uniform([tf.shape(x)[0]], s3))
    mix = lambda a: lam * a + (1 - lam) * tf.gather(a, perm)  # noqa: E731
    return mix(x), mix(y), mix(w)
