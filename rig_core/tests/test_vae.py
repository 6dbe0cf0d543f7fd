"""The beta-VAE: architecture shapes, loss terms against closed forms, learning on a fixed batch."""

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence
from torch.nn import functional as F

from rig_core.vae import ConvVAE, gaussian_kl, images_to_tensor


@pytest.mark.parametrize("size", [84, 48])
def test_encoder_and_decoder_shapes_match_the_papers_architectures(size):
    vae = ConvVAE(size, latent_dim=4)
    mu, logvar = vae.encoder(torch.rand(3, 3, size, size))
    assert mu.shape == logvar.shape == (3, 4)
    assert vae.decode(mu).shape == (3, 3, size, size)


def test_kl_matches_torch_distributions():
    mu, logvar = torch.randn(5, 7), torch.randn(5, 7)
    expected = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(gaussian_kl(mu, logvar), expected)


def test_loss_is_summed_bce_per_image_plus_beta_times_kl():
    torch.manual_seed(0)
    vae = ConvVAE(48, latent_dim=3)
    x = torch.rand(4, 3, 48, 48)
    torch.manual_seed(1)
    loss = vae.loss(x, beta=2.5)
    mu, logvar = vae.encoder(x)
    torch.manual_seed(1)
    z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
    bce = F.binary_cross_entropy(vae.decode(z), x, reduction="sum") / 4
    kl = gaussian_kl(mu, logvar).mean()
    torch.testing.assert_close(loss.reconstruction, bce, rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(loss.kl, kl)
    torch.testing.assert_close(loss.total, bce + 2.5 * kl, rtol=1e-4, atol=1e-3)


def test_min_variance_bounds_the_posterior_variance():
    vae = ConvVAE(48, latent_dim=3, min_variance=1e-3)
    _, logvar = vae.encoder(torch.rand(8, 3, 48, 48))
    assert torch.all(logvar.exp() >= 1e-3 - 1e-9)


def test_loss_falls_on_a_fixed_batch():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    images = np.zeros((16, 48, 48, 3), np.uint8)
    for image in images:  # a bright square at a random place: learnable structure
        r, c = rng.integers(0, 36, 2)
        image[r : r + 12, c : c + 12] = 255
    vae = ConvVAE(48, latent_dim=4)
    optimizer = torch.optim.Adam(vae.parameters(), lr=1e-3)
    x = images_to_tensor(images)
    first = None
    for _ in range(60):
        loss = vae.loss(x, beta=1.0).total
        first = loss.item() if first is None else first
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert vae.loss(x, beta=1.0).total.item() < 0.5 * first


def test_encode_means_is_deterministic_and_batched():
    vae = ConvVAE(84, latent_dim=5)
    images = np.random.default_rng(0).integers(0, 256, (9, 84, 84, 3), dtype=np.uint8)
    together = vae.encode_means(images, batch_size=4)
    one_by_one = np.concatenate([vae.encode_means(images[i : i + 1]) for i in range(9)])
    assert together.shape == (9, 5) and together.dtype == np.float32
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
