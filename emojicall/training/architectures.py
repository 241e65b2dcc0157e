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


ARCHS = {"mlp": mlp, "cnn": cnn}
