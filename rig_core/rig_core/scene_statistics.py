"""What the VAE's training images say about the scene, kept with the weights for judging goal images.

* `static`: the pixels that barely vary over the training images (what the arm never covers), where a goal image
  can be aligned to the live camera (`rig_core.goal_alignment`);
* `reconstruction_errors`: quantiles of the VAE's per-image reconstruction error on those images, the range a
  familiar goal image falls in (`rig_core.goal_preparation`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rig_core.goal_alignment import static_mask

QUANTILES = (0.5, 0.9, 0.99)
"""Which quantiles of the training reconstruction errors are kept."""


@dataclass(frozen=True)
class SceneStatistics:
    """The static pixels (uint8 H x W, 1 = static) and the training reconstruction-error quantiles (QUANTILES)."""

    static: np.ndarray
    reconstruction_errors: np.ndarray

    @classmethod
    def fit(cls, images: np.ndarray, reconstruction_errors: np.ndarray) -> SceneStatistics:
        """From (N, H, W, 3) uint8 training images and the VAE's reconstruction error of each."""
        quantiles = np.quantile(reconstruction_errors, QUANTILES).astype(np.float32)
        return cls(static_mask(images), quantiles)

    @property
    def typical_error(self) -> float:
        """The 99th percentile of the training reconstruction errors."""
        return float(self.reconstruction_errors[-1])

    def tensors(self) -> dict[str, torch.Tensor]:
        """For checkpoints and weights bundles."""
        errors = torch.as_tensor(self.reconstruction_errors)
        return {"scene.static": torch.as_tensor(self.static), "scene.reconstruction_errors": errors}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor], image_size: int) -> SceneStatistics | None:
        """Inverse of `tensors` (None where they were never fitted: files from before them); ValueError if malformed."""
        if "scene.static" not in tensors:
            return None
        static, errors = tensors["scene.static"].numpy(), tensors["scene.reconstruction_errors"].numpy()
        if static.shape != (image_size, image_size) or static.dtype != np.uint8 or errors.shape != (len(QUANTILES),):
            raise ValueError(f"scene statistics of the wrong shape: static {static.shape} {static.dtype}, "
                             f"errors {errors.shape}")
        return cls(static, errors)
