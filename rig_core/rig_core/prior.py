"""The goal distribution for imagined goals: a diagonal Gaussian fitted to the encoder means.

The authors' paper-era runs sampled goals from N(mean, diag(std^2)) of the encoder means over held-out
images (`sample_from_true_prior=False`), not from N(0, I) (RIG_REFERENCE.md §1.3 and §5, trap 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class LatentPrior:
    """N(mean, diag(std^2)) over latent goals."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def standard(cls, latent_dim: int) -> LatentPrior:
        """N(0, I), the VAE's own prior."""
        return cls(np.zeros(latent_dim, np.float32), np.ones(latent_dim, np.float32))

    @classmethod
    def fit(cls, latent_means: np.ndarray) -> LatentPrior:
        """Fit to a (N, latent_dim) array of encoder means."""
        if latent_means.ndim != 2 or len(latent_means) < 2:
            raise ValueError("fitting the latent prior needs at least two latent vectors")
        return cls(latent_means.mean(axis=0).astype(np.float32), latent_means.std(axis=0).astype(np.float32))

    def sample(self, count: int, rng: np.random.Generator, min_std: float = 0.0) -> np.ndarray:
        """`count` goals as float32 (count, latent_dim), each dimension's std raised to at least `min_std`."""
        noise = rng.standard_normal((count, self.mean.shape[0]))
        return (self.mean + noise * np.maximum(self.std, min_std)).astype(np.float32)

    def clip(self, latents: np.ndarray, num_std: float) -> np.ndarray:
        """`latents` with every dimension clamped to mean ± `num_std` std (unchanged when `num_std` is 0)."""
        if num_std <= 0:
            return latents
        reach = num_std * self.std
        return np.clip(latents, self.mean - reach, self.mean + reach).astype(latents.dtype)
