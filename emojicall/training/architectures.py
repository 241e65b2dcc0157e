"""Network definitions, apart from the training loop. Every model takes uint8-range float input (N, S, S, 1)
and rescales inside, so the runtime feeds raw gray pixels whatever the architecture."""
from __future__ import annotations

import keras
from keras import layers

from ..labels import LABELS


def mlp(size: int = 48) -> keras.Model:
    """The method's MLP: flattened 48x48 input, three dense hidden layers of 512, 7-way softmax."""
    inputs = keras.Input((size, size, 1), name="face")
    x = layers.Rescaling(1 / 255.0)(inputs)
    x = layers.Flatten()(x)
    # Per-image standardisation (no parameters): lighting varies wildly in FER and an MLP cannot learn it away.
    x = layers.LayerNormalization(center=False, scale=False)(x)
    for _ in range(3):
        x = layers.Dense(512, activation="relu")(x)
        x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(len(LABELS), activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="mlp")


def cnn(size: int = 48) -> keras.Model:
    """The method's CNN, layer for layer: 593,383 parameters on a 48x48x1 input."""
    def conv(x, filters):
        x = layers.Conv2D(filters, 3)(x)
        return layers.LeakyReLU(0.1)(x)

    inputs = keras.Input((size, size, 1), name="face")
    x = layers.Rescaling(1 / 255.0)(inputs)
    x = conv(x, 32)
    x = conv(x, 32)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(0.25)(x)
    x = conv(x, 64)
    x = layers.Dropout(0.25)(x)
    x = layers.MaxPooling2D()(x)
    x = conv(x, 64)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(512)(x)
    x = layers.LeakyReLU(0.1)(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(len(LABELS), activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="cnn")


def fernet(size: int = 44, width: int = 24) -> keras.Model:
    """VGG-style with batch norm, sized for a laptop CPU: one conv at full resolution, then pairs of 3x3 convs
    at 1/2, 1/4 and 1/8 (width 2w, 4w, 8w) and global average pooling. Early pooling puts the FLOPs where the
    channels are; batch norm lets it converge in tens of epochs. Width 24: 0.66M parameters, 43M multiply-adds
    at 44 px, trains at 0.7-0.9x `cnn`'s images/s here; width 32 (`fernet_l`): 1.17M, 76M, 0.4x."""
    def conv(x, filters):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        # momentum 0.9 (PyTorch's 0.1): inference statistics that keep up within ~10 steps. Keras's 0.99 kept
        # them ~100 steps stale: 30% instead of 48% validation accuracy after a 3-epoch run (docs/model.md).
        x = layers.BatchNormalization(momentum=0.9)(x)
        return layers.ReLU()(x)

    inputs = keras.Input((size, size, 1), name="face")
    x = layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
    x = conv(x, width)
    x = layers.MaxPooling2D()(x)
    for stage, filters in enumerate((2 * width, 4 * width, 8 * width)):
        x = conv(x, filters)
        x = conv(x, filters)
        if stage < 2:
            x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(len(LABELS), activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="fernet")


def fernet_l(size: int = 44) -> keras.Model:
    return fernet(size, width=32)


ARCHS = {"mlp": mlp, "cnn": cnn, "fernet": fernet, "fernet_l": fernet_l}
