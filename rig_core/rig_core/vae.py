"""The beta-VAE of RIG: conv encoder/decoder for 84x84 (paper-era) or 48x48 (v0.1.2) RGB images.

Architectures follow the authors' code (RIG_REFERENCE.md §2a/2b). Loss = BCE summed over pixels and
averaged over the batch + beta * KL(q(z|x) || N(0, I)) summed over latent dims, averaged over the batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class VAELoss(NamedTuple):
    """The loss and its two terms (per image, averaged over the batch)."""

    total: torch.Tensor
    reconstruction: torch.Tensor
    kl: torch.Tensor


def images_to_tensor(images: np.ndarray | torch.Tensor, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 (N, H, W, 3) images -> float (N, 3, H, W) in [0, 1] on `device`."""
    tensor = torch.as_tensor(images, device=device)
    return tensor.permute(0, 3, 1, 2).float().div_(255.0)


def conv_trunk(image_size: int, batch_norm: bool = True) -> tuple[nn.Sequential, int]:
    """The VAE encoder's conv stack (flattened) and its output size; `batch_norm` applies to the 84-pixel stack,
    the only one with batch normalisation."""
    if image_size == 84:
        layers: list[nn.Module] = []
        for c_in, c_out in ((3, 16), (16, 32), (32, 32)):
            norm = [nn.BatchNorm2d(c_out)] if batch_norm else []
            layers += [nn.Conv2d(c_in, c_out, 5, stride=3), *norm, nn.ReLU()]
        return nn.Sequential(*layers, nn.Flatten()), 32 * 2 * 2
    if image_size == 48:
        return nn.Sequential(
            nn.Conv2d(3, 16, 5, stride=3), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2), nn.ReLU(),
            nn.Flatten(),
        ), 64 * 3 * 3  # fmt: skip
    raise ValueError(f"image_size must be 84 or 48, got {image_size}")


def _decoder_layers(image_size: int, latent_dim: int) -> nn.Sequential:
    if image_size == 84:
        return nn.Sequential(
            nn.Linear(latent_dim, 128), nn.ReLU(), nn.Unflatten(1, (32, 2, 2)),
            nn.ConvTranspose2d(32, 32, 5, stride=3), nn.ReLU(),
            nn.ConvTranspose2d(32, 16, 6, stride=3), nn.ReLU(),
            nn.ConvTranspose2d(16, 3, 6, stride=3),
        )  # fmt: skip
    return nn.Sequential(
        nn.Linear(latent_dim, 576), nn.ReLU(), nn.Unflatten(1, (64, 3, 3)),
        nn.ConvTranspose2d(64, 32, 3, stride=2), nn.ReLU(),
        nn.ConvTranspose2d(32, 16, 3, stride=2), nn.ReLU(),
        nn.ConvTranspose2d(16, 3, 6, stride=3),
    )  # fmt: skip


class Encoder(nn.Module):
    """x -> (mu, logvar). Split from the decoder so a policy can load the encoder alone."""

    def __init__(self, image_size: int, latent_dim: int, min_variance: float | None = None) -> None:
        super().__init__()
        self.trunk, features = conv_trunk(image_size)
        self.mu = nn.Linear(features, latent_dim)
        self.logvar = nn.Linear(features, latent_dim)
        self.min_variance = min_variance

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        raw = self.logvar(h)
        if self.min_variance is None:
            return self.mu(h), raw
        return self.mu(h), torch.log(self.min_variance + raw.abs())


class ImageAutoencoder(nn.Module):
    """What the agent needs of a representation learner: `codes` of images (the policy's observations), `decode`
    (pixel means, for the sample grids), `loss`, and batched numpy encoding. `latent_dim` is the code size."""

    latent_dim: int
    encoder: nn.Module

    def codes(self, x: torch.Tensor) -> torch.Tensor:
        """Codes of images x in [0, 1], (N, latent_dim)."""
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel means in [0, 1], (N, 3, H, W)."""
        raise NotImplementedError

    def loss(self, x: torch.Tensor, beta: float) -> VAELoss:
        """The training loss of a batch x in [0, 1] (`beta` weighs a KL term where there is one)."""
        raise NotImplementedError

    @torch.no_grad()
    def encode_means(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """Codes of uint8 (N, H, W, 3) images as float32 (N, latent_dim), in eval mode."""
        return self.apply_batched(images, self.codes, batch_size)

    @torch.no_grad()
    def apply_batched(
        self, images: np.ndarray, function: Callable[[torch.Tensor], torch.Tensor], batch_size: int = 512
    ) -> np.ndarray:
        """`function` of uint8 images (as [0, 1] tensors) in eval mode, batch by batch, as float32 (N, latent_dim)."""
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        outputs = [
            function(images_to_tensor(images[i : i + batch_size], device)).cpu().numpy()
            for i in range(0, len(images), batch_size)
        ]
        self.train(was_training)
        if not outputs:
            return np.zeros((0, self.latent_dim), np.float32)
        return np.concatenate(outputs).astype(np.float32)


class ConvVAE(ImageAutoencoder):
    """The beta-VAE: `encoder` gives a diagonal Gaussian posterior, `decoder` Bernoulli pixel means."""

    def __init__(self, image_size: int = 84, latent_dim: int = 16, min_variance: float | None = None) -> None:
        super().__init__()
        self.image_size = image_size
        self.latent_dim = latent_dim
        self.encoder = Encoder(image_size, latent_dim, min_variance)
        self.decoder = _decoder_layers(image_size, latent_dim)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel means in [0, 1], (N, 3, H, W)."""
        return torch.sigmoid(self.decoder(z))

    def loss(self, x: torch.Tensor, beta: float) -> VAELoss:
        """The beta-VAE loss of a batch x in [0, 1] (reparameterised sample of z)."""
        mu, logvar = self.encoder(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        logits = self.decoder(z)
        batch = x.shape[0]
        reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / batch
        kl = gaussian_kl(mu, logvar).mean()
        return VAELoss(reconstruction + beta * kl, reconstruction, kl)

    def codes(self, x: torch.Tensor) -> torch.Tensor:
        """Encoder means."""
        return self.encoder(x)[0]

    def log_variances(self, images: np.ndarray) -> np.ndarray:
        """Posterior log-variances of uint8 images, float32 (N, latent_dim), in eval mode."""
        return self.apply_batched(images, lambda x: self.encoder(x)[1])


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over the last dimension."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)
