"""The RIG agent: beta-VAE + fitted latent prior + goal-conditioned TD3, with no middleware in sight.

The single-process trainer (`rig train`) and the ROS nodes use this one class. In Oracle mode there is
no VAE: observations and goals are true states. The image baselines (`config.method`) swap the VAE for their
autoencoder (DSAE, L&R: autoencoders.py), or drop it and act on the images themselves (HER on pixels: pixels.py).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from rig_core.autoencoders import make_autoencoder
from rig_core.checkpoint import load_module, load_optimizer, module_tensors, optimizer_tensors
from rig_core.config import Method, RigConfig
from rig_core.optim import adam
from rig_core.pixels import PixelEncoder
from rig_core.prior import LatentPrior
from rig_core.replay import RelabelledBatch
from rig_core.scene_statistics import SceneStatistics
from rig_core.td3 import TD3, TD3Stats, TransitionBatch
from rig_core.vae import ImageAutoencoder, images_to_tensor


class VAEStats(NamedTuple):
    """Per-image loss terms of one VAE batch."""

    loss: float
    reconstruction: float
    kl: float


class RIGAgent:
    """Everything that learns. `obs_shape` is what the policy sees of one observation: (latent size,), (state
    size,) for the Oracle, or (H, W, 3) uint8 images for HER on pixels."""

    def __init__(self, config: RigConfig, state_dim: int, action_dim: int, device: torch.device | str = "cpu") -> None:
        self.config = config
        self.device = torch.device(device)
        self.vae: ImageAutoencoder | None = None if config.oracle else make_autoencoder(config.method, config.vae)
        size = config.vae.image_size
        trunk = (lambda: PixelEncoder(size)) if config.method is Method.HER_PIXELS else None
        if self.vae is not None:
            self.vae.to(self.device)
            self.vae_optimizer = adam(self.vae.parameters(), config.vae.lr, self.device)
        self.obs_dim = state_dim if config.oracle else 0 if self.vae is None else self.vae.latent_dim
        self.obs_shape: tuple[int, ...] = (self.obs_dim,) if trunk is None else (size, size, 3)
        self.action_dim = action_dim
        self.prior = LatentPrior.standard(self.obs_dim)
        self.scene: SceneStatistics | None = None
        """The VAE's training images' static pixels and reconstruction errors (RIG only; None until fitted)."""
        self.td3 = TD3(self.obs_dim, action_dim, config.td3, self.device, trunk)
        self.vae_steps = 0

    def encode(self, images: np.ndarray) -> np.ndarray:
        """Encoder means of uint8 (N, H, W, 3) images: the observation the policy sees (for HER on pixels, the
        images themselves)."""
        if self.config.method is Method.HER_PIXELS:
            return images
        return self._require_vae().encode_means(images)

    def encode_goal(self, images: np.ndarray) -> np.ndarray:
        """Goal images' latents for the policy: encoder means clamped to the goal prior (`train.goal_clip_std`;
        RIG's imagined-goal prior only)."""
        if self.config.method is not Method.RIG:
            return self.encode(images)
        return self.prior.clip(self.encode(images), self.config.train.goal_clip_std)

    def act(self, obs: np.ndarray, goal: np.ndarray) -> np.ndarray:
        """The deterministic policy action for one (obs, goal)."""
        return self.td3.act(obs, goal)

    def sample_prior(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """Imagined goals from the fitted latent prior (its std floored at `train.prior_min_std`)."""
        return self.prior.sample(count, rng, self.config.train.prior_min_std)

    def fit_scene(self, images: np.ndarray) -> None:
        """Refit the scene statistics to (N, H, W, 3) training images of the current VAE (RIG only)."""
        if self.config.method is Method.RIG and self.vae is not None:
            self.scene = SceneStatistics.fit(images, self.reconstruction_errors(images))

    def reconstruction_errors(self, images: np.ndarray, batch: int = 256) -> np.ndarray:
        """Mean squared error (0-255 levels) of the VAE's reconstruction of each uint8 (N, H, W, 3) image."""
        errors = []
        for start in range(0, len(images), batch):
            chunk = images[start : start + batch]
            decoded = self.decode(self.encode(chunk)).astype(np.float32)
            errors.append(np.mean((decoded - chunk.astype(np.float32)) ** 2, axis=(1, 2, 3)))
        return np.concatenate(errors)

    def goal_tensors(self) -> dict[str, torch.Tensor]:
        """The goal prior and scene statistics, for checkpoints, pretrained VAEs and weights bundles."""
        tensors = {"prior.mean": torch.as_tensor(self.prior.mean), "prior.std": torch.as_tensor(self.prior.std)}
        return tensors | ({} if self.scene is None else self.scene.tensors())

    def load_goal_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        """Inverse of `goal_tensors`; nothing changes if they do not fit (see `read_goal_tensors`)."""
        self.prior, self.scene = self.read_goal_tensors(tensors)

    def read_goal_tensors(self, tensors: dict[str, torch.Tensor]) -> tuple[LatentPrior, SceneStatistics | None]:
        """The prior and scene statistics in `goal_tensors` output, checked against this agent's sizes (files from
        before the scene statistics give None for them); KeyError or ValueError if missing or malformed."""
        prior = LatentPrior(tensors["prior.mean"].numpy(), tensors["prior.std"].numpy())
        if prior.mean.shape != (self.obs_dim,) or prior.std.shape != prior.mean.shape:
            raise ValueError(f"goal prior of size {prior.mean.shape}, expected ({self.obs_dim},)")
        return prior, SceneStatistics.from_tensors(tensors, self.config.vae.image_size)

    def fit_prior(self, latents: np.ndarray) -> None:
        """Refit the goal prior to encoder means (or keep N(0, I) when the config says so)."""
        if self.config.train.prior_from_data:
            self.prior = LatentPrior.fit(latents)

    def train_vae(self, images: np.ndarray, beta: float) -> VAEStats:
        """One VAE gradient step on a batch of uint8 images."""
        vae = self._require_vae()
        vae.train()
        loss = vae.loss(images_to_tensor(images, self.device), beta)
        self.vae_optimizer.zero_grad(set_to_none=True)
        loss.total.backward()
        self.vae_optimizer.step()
        self.vae_steps += 1
        return VAEStats(loss.total.item(), loss.reconstruction.item(), loss.kl.item())

    @torch.no_grad()
    def vae_test_loss(self, images: np.ndarray, beta: float) -> VAEStats:
        """The VAE loss on held-out images (eval mode)."""
        vae = self._require_vae()
        vae.eval()
        loss = vae.loss(images_to_tensor(images, self.device), beta)
        return VAEStats(loss.total.item(), loss.reconstruction.item(), loss.kl.item())

    @torch.no_grad()
    def reconstruct(self, images: np.ndarray) -> np.ndarray:
        """Decoded encoder means as uint8 images (for the reconstruction grid)."""
        return self.decode(self.encode(images))

    @torch.no_grad()
    def decode(self, latents: np.ndarray) -> np.ndarray:
        """uint8 (N, H, W, 3) images of latents."""
        vae = self._require_vae()
        vae.eval()
        pixels = vae.decode(torch.as_tensor(latents, dtype=torch.float32, device=self.device))
        return (pixels.permute(0, 2, 3, 1).cpu().numpy() * 255.0).round().astype(np.uint8)

    def td3_update(self, batch: RelabelledBatch) -> TD3Stats:
        """One TD3 step on a relabelled batch."""
        tensors = [torch.as_tensor(array, device=self.device) for array in batch[:5]]
        return self.td3.update(TransitionBatch(*tensors))

    def tensors(self) -> dict[str, torch.Tensor]:
        """Every learnable tensor and optimizer moment, for a checkpoint."""
        tensors: dict[str, torch.Tensor] = {}
        for name, module in self.td3.modules().items():
            tensors |= module_tensors(name, module)
        for name, optimizer in self.td3.optimizers().items():
            tensors |= optimizer_tensors(name, optimizer)
        if self.vae is not None:
            tensors |= module_tensors("vae", self.vae) | optimizer_tensors("vae_optimizer", self.vae_optimizer)
        return tensors | self.goal_tensors()

    def load_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        """Inverse of `tensors`."""
        for name, module in self.td3.modules().items():
            load_module(name, module, tensors)
        for name, optimizer in self.td3.optimizers().items():
            load_optimizer(name, optimizer, tensors)
        if self.vae is not None:
            load_module("vae", self.vae, tensors)
            load_optimizer("vae_optimizer", self.vae_optimizer, tensors)
        self.load_goal_tensors(tensors)

    def _require_vae(self) -> ImageAutoencoder:
        if self.vae is None:
            raise RuntimeError("the Oracle and HER on pixels have no VAE")
        return self.vae
