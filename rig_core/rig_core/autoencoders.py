"""The representation learners of the paper's image baselines, beside RIG's beta-VAE (vae.py).

* L&R (Lange & Riedmiller 2010): a deterministic autoencoder, the VAE's encoder and decoder with no noise and no
  KL term; the encoder mean head is its code.
* DSAE (Finn et al. 2016): conv layers, a spatial soft-argmax that turns each of `points` feature maps into the
  expected (x, y) image position of its activation, and a linear decoder of a 4x downsampled grayscale image from
  those 2 x `points` coordinates; the coordinates are the code.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from rig_core.config import Method, VAEConfig
from rig_core.vae import ConvVAE, ImageAutoencoder, VAELoss


def spatial_soft_argmax(features: torch.Tensor, temperature: torch.Tensor | float = 1.0) -> torch.Tensor:
    """Expected (x, y) of a softmax over each channel's positions, in [-1, 1] (left/top = -1): (N, C, 2).

    Hand-written: it is a few torch ops, and the library that has it (kornia) pins a newer torch than this
    project's."""
    batch, channels, height, width = features.shape
    weights = F.softmax(features.reshape(batch, channels, height * width) / temperature, dim=-1)
    weights = weights.reshape(batch, channels, height, width)
    ys = torch.linspace(-1.0, 1.0, height, device=features.device, dtype=features.dtype)
    xs = torch.linspace(-1.0, 1.0, width, device=features.device, dtype=features.dtype)
    return torch.stack([(weights.sum(dim=2) * xs).sum(dim=-1), (weights.sum(dim=3) * ys).sum(dim=-1)], dim=-1)


class SpatialEncoder(nn.Module):
    """Finn et al.'s encoder: conv 7x7/2 (64) -> conv 5x5 (32) -> conv 5x5 (`points`), ReLU, spatial soft-argmax
    with a learned temperature -> (N, 2 * points) feature-point coordinates."""

    def __init__(self, points: int) -> None:
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv2d(3, 64, 7, stride=2), nn.ReLU(),
            nn.Conv2d(64, 32, 5), nn.ReLU(),
            nn.Conv2d(32, points, 5),
        )  # fmt: skip
        self.log_temperature = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return spatial_soft_argmax(self.convs(x), self.log_temperature.exp()).flatten(1)


class DeepSpatialAutoencoder(ImageAutoencoder):
    """The DSAE: feature points of an RGB image, decoded linearly to its downsampled grayscale image (Finn et al.'s
    loss: squared reconstruction error; their smoothness term needs image sequences, which the i.i.d. exploration
    images are not, so it is left out)."""

    DOWNSAMPLE = 4  # Finn et al.: 240x240 in, 60x60 grayscale reconstructed

    def __init__(self, image_size: int, points: int) -> None:
        super().__init__()
        self.image_size, self.latent_dim = image_size, 2 * points
        self.target_size = image_size // self.DOWNSAMPLE
        self.encoder = SpatialEncoder(points)
        self.decoder = nn.Linear(self.latent_dim, self.target_size**2)

    def codes(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def target(self, x: torch.Tensor) -> torch.Tensor:
        """The grayscale image the decoder reconstructs: (N, 1, image_size / 4, image_size / 4) in [0, 1]."""
        return F.avg_pool2d(x.mean(dim=1, keepdim=True), self.DOWNSAMPLE)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The reconstructed grayscale image, scaled up to the input size and repeated over RGB (for the grids)."""
        small = self.decoder(z).clamp(0.0, 1.0).reshape(-1, 1, self.target_size, self.target_size)
        return F.interpolate(small, size=(self.image_size, self.image_size), mode="nearest").expand(-1, 3, -1, -1)

    def loss(self, x: torch.Tensor, beta: float) -> VAELoss:
        """Squared error summed over the target's pixels, averaged over the batch (no KL: `beta` is unused)."""
        error = (self.decoder(self.codes(x)) - self.target(x).flatten(1)).pow(2).sum(dim=1).mean()
        return VAELoss(error, error, torch.zeros(()))


class PlainAutoencoder(ConvVAE):
    """L&R's deterministic autoencoder: the VAE's networks, the code is the encoder mean (the log-variance head is
    never used), loss = the VAE's summed BCE with no noise and no KL."""

    def loss(self, x: torch.Tensor, beta: float) -> VAELoss:
        reconstruction = F.binary_cross_entropy_with_logits(self.decoder(self.codes(x)), x, reduction="sum") / x.shape[0]
        return VAELoss(reconstruction, reconstruction, torch.zeros(()))


def make_autoencoder(method: Method, config: VAEConfig) -> ImageAutoencoder | None:
    """The representation learner of a method (None for HER on pixels, which learns on images). The DSAE has
    `config.latent_dim` feature points, so a 2 x latent_dim code (16 points = 32 numbers on the reacher, as the
    16 feature points of Finn et al.)."""
    if method is Method.RIG:
        return ConvVAE(config.image_size, config.latent_dim, config.min_variance)
    if method is Method.LR:
        return PlainAutoencoder(config.image_size, config.latent_dim)
    if method is Method.DSAE:
        return DeepSpatialAutoencoder(config.image_size, config.latent_dim)
    return None
