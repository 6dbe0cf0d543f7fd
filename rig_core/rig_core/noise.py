"""Ornstein-Uhlenbeck exploration noise, as rlkit's OUStrategy applies it (dt = 1, mu = 0)."""

from __future__ import annotations

import numpy as np


class OUNoise:
    """x <- x + theta * (0 - x) + sigma * N(0, I); the action is clip(a + x, -1, 1)."""

    def __init__(self, action_dim: int, theta: float, sigma: float, rng: np.random.Generator) -> None:
        self.theta = theta
        self.sigma = sigma
        self.rng = rng
        self.state = np.zeros(action_dim)

    def reset(self) -> None:
        """Start a new episode's noise process at zero."""
        self.state[:] = 0.0

    def apply(self, action: np.ndarray) -> np.ndarray:
        """Advance the process once and return the noisy, clipped action."""
        self.state += -self.theta * self.state + self.sigma * self.rng.standard_normal(self.state.shape)
        return np.clip(action + self.state, -1.0, 1.0).astype(np.float32)
