"""The relabelled reward of each method: RIG's reward ablation (latent distance, log probability, pixel MSE)
and the baselines' distances. Each is a buffer `Reward` (replay.py), computed for every sampled goal."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from rig_core.config import Method, RewardKind, RigConfig
from rig_core.pixels import pixel_distance_reward
from rig_core.replay import Reward, latent_distance
from rig_core.vae import ConvVAE


def log_prob_reward(next_obs: np.ndarray, next_log_variance: np.ndarray, goal: np.ndarray, min_variance: float) -> np.ndarray:
    """The paper's "Log Prob." reward: log q(z_g | x') of the goal latent under the encoder's Gaussian of the next
    image, up to its constant: -sum (mu(x') - z_g)^2 / (2 var(x')), the variance floored at `min_variance`."""
    variance = np.maximum(np.exp(next_log_variance), min_variance)
    return -((next_obs - goal) ** 2 / (2.0 * variance)).sum(axis=-1).astype(np.float32)


def pixel_mse_reward(next_images: np.ndarray, goal_pixels: np.ndarray) -> np.ndarray:
    """The paper's "Pixel MSE" reward: -||x' - x_g||^2 over every pixel and channel, x' the uint8 next image and
    x_g the goal image as [0, 1] floats (N, H, W, 3)."""
    difference = next_images.astype(np.float32) / 255.0 - goal_pixels
    return -(difference.reshape(len(difference), -1) ** 2).sum(axis=1).astype(np.float32)


def _log_prob(vae: ConvVAE, min_variance: float) -> Reward:
    def reward(next_obs: np.ndarray, goal: np.ndarray, next_images: Callable[[], np.ndarray]) -> np.ndarray:
        return log_prob_reward(next_obs, vae.log_variances(next_images()), goal, min_variance)

    return reward


def _pixel_mse(vae: ConvVAE) -> Reward:
    """x_g is the VAE's decoding of the goal latent, for every goal: an imagined goal has no other image, and decoding
    the future (achieved) goals too keeps one reward for every goal source."""

    @torch.no_grad()
    def reward(next_obs: np.ndarray, goal: np.ndarray, next_images: Callable[[], np.ndarray]) -> np.ndarray:
        was_training = vae.training
        vae.eval()
        device = next(vae.parameters()).device
        goal_pixels = vae.decode(torch.as_tensor(goal, device=device)).permute(0, 2, 3, 1).cpu().numpy()
        vae.train(was_training)
        return pixel_mse_reward(next_images(), goal_pixels)

    return reward


def _pixel_distance(next_obs: np.ndarray, goal: np.ndarray, _next_images: Callable[[], np.ndarray]) -> np.ndarray:
    return pixel_distance_reward(next_obs, goal)


def make_reward(config: RigConfig, vae: ConvVAE | None) -> Reward:
    """The reward a run's buffer recomputes: `config.replay.reward` for RIG, the pixel distance for HER on pixels,
    the code distance for DSAE and L&R, the state distance for the Oracle."""
    if config.method is Method.HER_PIXELS:
        return _pixel_distance
    kind = config.replay.reward
    if kind is RewardKind.LATENT:
        return latent_distance
    if not isinstance(vae, ConvVAE):
        raise ValueError(f"reward {kind.value} needs RIG's VAE")
    if kind is RewardKind.LOG_PROB:
        return _log_prob(vae, config.replay.min_reward_variance)
    return _pixel_mse(vae)
