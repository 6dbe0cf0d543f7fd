"""The imagined-goal prior: fitted to encoder means, with an optional floor on each dimension's std; goal
latents clamped to it."""

from dataclasses import replace

import numpy as np
import pytest

from rig_core.agent import RIGAgent
from rig_core.config import task_config
from rig_core.prior import LatentPrior


def collapsed_latents() -> np.ndarray:
    """Encoder means with one used dimension (std 2) and one the VAE left unused (std 0.01)."""
    rng = np.random.default_rng(0)
    return np.stack([rng.normal(3.0, 2.0, 5000), rng.normal(-1.0, 0.01, 5000)], axis=1)


def test_fit_and_sample_follow_the_encoder_means():
    prior = LatentPrior.fit(collapsed_latents())
    samples = prior.sample(20_000, np.random.default_rng(1))
    assert samples.dtype == np.float32
    np.testing.assert_allclose(samples.mean(axis=0), [3.0, -1.0], atol=0.05)
    np.testing.assert_allclose(samples.std(axis=0), [2.0, 0.01], rtol=0.05)


def test_min_std_widens_only_the_narrow_dimensions():
    prior = LatentPrior.fit(collapsed_latents())
    samples = prior.sample(20_000, np.random.default_rng(2), min_std=0.1)
    np.testing.assert_allclose(samples.mean(axis=0), [3.0, -1.0], atol=0.05)
    np.testing.assert_allclose(samples.std(axis=0), [2.0, 0.1], rtol=0.05)


@pytest.mark.parametrize("min_std", [0.0, 0.1])
def test_agent_samples_imagined_goals_with_the_configured_floor(min_std):
    config = task_config("visual-reacher")
    agent = RIGAgent(replace(config, train=replace(config.train, prior_min_std=min_std)), state_dim=2, action_dim=2)
    latents = np.tile(collapsed_latents(), (1, 8))  # latent_dim 16
    agent.fit_prior(latents)
    narrow = agent.sample_prior(20_000, np.random.default_rng(3))[:, 1::2].std(axis=0)
    np.testing.assert_allclose(narrow, max(min_std, 0.01), rtol=0.05)


def test_clip_clamps_each_dimension_to_its_own_std_range():
    prior = LatentPrior(np.array([3.0, -1.0], np.float32), np.array([2.0, 0.01], np.float32))
    latents = np.array([[4.0, -1.02], [20.0, -0.5], [-20.0, -1.5]], np.float32)
    clipped = prior.clip(latents, 3.0)
    assert clipped.dtype == np.float32
    np.testing.assert_allclose(clipped, [[4.0, -1.02], [9.0, -0.97], [-3.0, -1.03]], rtol=1e-6)
    assert prior.clip(latents, 0.0) is latents  # 0 = off


@pytest.mark.parametrize("clip_std", [0.0, 3.0])
def test_agent_clamps_encoded_goal_images_to_the_goal_prior(clip_std):
    config = task_config("visual-reacher")
    config = replace(config, vae=replace(config.vae, image_size=48), train=replace(config.train, goal_clip_std=clip_std))
    agent = RIGAgent(config, state_dim=2, action_dim=2)
    images = np.random.default_rng(4).integers(0, 256, (3, 48, 48, 3), dtype=np.uint8)
    means = agent.encode(images)
    agent.prior = LatentPrior(means.mean(axis=0) + 1.0, np.full(16, 0.01, np.float32))  # every image far outside it
    goals = agent.encode_goal(images)
    if clip_std:
        np.testing.assert_allclose(goals, np.broadcast_to(agent.prior.mean - 0.03, goals.shape), atol=1e-5)
    else:
        np.testing.assert_array_equal(goals, means)
