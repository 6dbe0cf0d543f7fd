"""Getting the VAE its data and training it: random-exploration images, pretraining, online phases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from tqdm import tqdm

from rig_core.agent import RIGAgent, VAEStats
from rig_core.checkpoint import load_module, module_tensors
from rig_core.config import ExplorationConfig, VAEConfig
from rig_core.envs import SawyerImageTask
from rig_core.errors import RigError
from rig_core.files import write_atomic
from rig_core.noise import OUNoise
from rig_core.replay import RelabelingReplayBuffer

PRETRAINED_VAE = "vae_pretrained.safetensors"
SCENE_IMAGES = 512
"""Replay images the scene statistics are refitted on after an online VAE phase."""


def collect_vae_images(
    env: SawyerImageTask, count: int, config: VAEConfig, exploration: ExplorationConfig, rng: np.random.Generator
) -> np.ndarray:
    """Images from a random exploration policy: uniform actions plus OU noise, teleporting hand and pucks to a
    random goal state every `config.teleport_every` steps (the authors' data also relies on state resets to cover
    puck positions, RIG_REFERENCE.md §1.1 and §5 trap 5). The first `config.goal_image_fraction` of the images
    are rendered goal states instead (the whole goal range, out-of-reach hand positions included)."""
    noise = OUNoise(env.action_space.shape[0], exploration.ou_theta, exploration.ou_sigma, rng)
    images = np.empty((count, env.image_size, env.image_size, 3), np.uint8)
    if not 0.0 <= config.goal_image_fraction <= 1.0:
        raise RigError(f"vae.goal_image_fraction must be within [0, 1], got {config.goal_image_fraction}")
    goal_images = round(count * config.goal_image_fraction)
    for index in range(goal_images):
        images[index] = env.render_state(env.sample_goal_state(rng))
    env.reset(seed=int(rng.integers(2**31)))
    for index in range(goal_images, count):
        if (index - goal_images) % config.teleport_every == 0:
            env.set_state(env.sample_goal_state(rng))
            noise.reset()
        images[index], _, _, truncated, _ = env.step(noise.apply(rng.uniform(-1.0, 1.0, env.action_space.shape)))
        if truncated:
            env.reset(seed=int(rng.integers(2**31)))
    return images


@dataclass
class Pretraining:
    """How far VAE pretraining got: the train/test split of its images and the epochs done (saved in checkpoints,
    so that an interrupted run resumes at the epoch it was in)."""

    order: np.ndarray  # a permutation of the images: the first 10% are the test set
    epochs_done: int = 0


def pretrain_vae(
    agent: RIGAgent,
    images: np.ndarray,
    config: VAEConfig,
    rng: np.random.Generator,
    progress: bool,
    state: Pretraining,
    before_epoch: Callable[[], None],
) -> tuple[VAEStats, VAEStats]:
    """Train on 90% of the images, test on 10% (split by `state.order`), from epoch `state.epochs_done` on; then refit
    the goal prior on the test encoder means. `before_epoch` runs at the start of every epoch.

    Returns the last epoch's (train, test) loss terms."""
    split = max(1, len(images) // 10)
    test, train = images[state.order[:split]], images[state.order[split:]]
    train_stats = test_stats = VAEStats(float("nan"), float("nan"), float("nan"))
    epochs = range(state.epochs_done, config.pretrain_epochs)
    bar = tqdm(epochs, initial=state.epochs_done, total=config.pretrain_epochs, desc="VAE pretraining", unit="epoch",
               disable=not progress)  # fmt: skip
    for epoch in bar:
        before_epoch()
        beta = config.beta_at(epoch)
        losses = [
            agent.train_vae(train[rng.integers(0, len(train), config.batch_size)], beta)
            for _ in range(config.batches_per_epoch)
        ]
        train_stats = VAEStats(*np.mean(losses, axis=0).tolist())
        test_stats = agent.vae_test_loss(test[: config.batch_size * 4], beta)
        bar.set_postfix(train=f"{train_stats.loss:.1f}", test=f"{test_stats.loss:.1f}", beta=f"{beta:.2f}")
        state.epochs_done = epoch + 1
    agent.fit_prior(agent.encode(test))
    agent.fit_scene(test)
    return train_stats, test_stats


def online_vae_phase(agent: RIGAgent, buffer: RelabelingReplayBuffer, config: VAEConfig, rng: np.random.Generator) -> VAEStats:
    """Fine-tune the VAE on replay images, then re-encode the buffer and refit the prior to its latents."""
    losses = [agent.train_vae(buffer.sample_images(config.batch_size, rng), config.beta) for _ in range(config.online_batches)]
    buffer.refresh_latents(agent.encode)
    agent.fit_prior(buffer.next_obs[: len(buffer)])
    agent.fit_scene(buffer.sample_images(SCENE_IMAGES, np.random.default_rng(agent.vae_steps)))  # not the run's rng
    return VAEStats(*np.mean(losses, axis=0).tolist())


def save_pretrained_vae(agent: RIGAgent, path: Path) -> None:
    """Keep the freshly pretrained VAE and its goal prior, so other runs can start from them."""
    tensors = module_tensors("vae", agent.vae) | agent.goal_tensors()
    write_atomic(path, save(tensors))


def load_pretrained_vae(agent: RIGAgent, path: Path) -> None:
    """Load a VAE and prior saved by `save_pretrained_vae` (shapes must match this run's config)."""
    try:
        tensors = load_file(str(path))
    except (FileNotFoundError, SafetensorError) as error:
        raise RigError(f"cannot read a pretrained VAE from {path}: {error}") from error
    load_module("vae", agent.vae, tensors)
    agent.load_goal_tensors(tensors)
