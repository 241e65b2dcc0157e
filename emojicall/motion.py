"""The One Euro filter (Casiez, Roussel and Vogel, CHI 2012): a low-pass filter whose cutoff rises with the
speed of the signal, so a still value is held still (low cutoff: jitter removed) and a moving one is followed
closely (high cutoff: little lag). Time comes from the caller, so the output depends on the frames only."""
from __future__ import annotations

import math

import numpy as np


def _smoothing(cutoff: float, dt: float) -> float:
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuro:
    """Filters a scalar or a vector. min_cutoff (Hz): the cutoff at rest, lower is stiller; beta: how much the
    cutoff rises per unit/s of speed, higher is less lag; d_cutoff (Hz): the cutoff of the speed estimate."""

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0):
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError("min_cutoff and d_cutoff must be > 0 and beta >= 0")
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.value: np.ndarray | None = None
        self._speed: np.ndarray | None = None

    def __call__(self, x, dt: float) -> np.ndarray:
        """The filtered value after a sample `x` taken `dt` seconds after the previous one."""
        x = np.asarray(x, np.float64)
        if self.value is None or dt <= 0:
            if self.value is None:
                self.value, self._speed = x.copy(), np.zeros_like(x)
            return self.value.copy()
        speed = (x - self.value) / dt
        a_d = _smoothing(self.d_cutoff, dt)
        self._speed = self._speed + a_d * (speed - self._speed)
        cutoff = self.min_cutoff + self.beta * np.abs(self._speed)
        a = 1.0 / (1.0 + 1.0 / (2 * math.pi * cutoff * dt))
        self.value = self.value + a * (x - self.value)
        return self.value.copy()

    def reset(self) -> None:
        self.value = self._speed = None
