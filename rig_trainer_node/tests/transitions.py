"""rig_msgs/Transition messages for the trainer tests: seeded random 48x48 frames, valid unless changed."""

from __future__ import annotations

from typing import Any

import numpy as np

from rig_transport import MessageFactory
from rig_transport.images import rgb_to_image

SIZE = 48
LATENT_DIM = 16  # visual-reacher
TINY = ";".join([
    "vae.num_images=64", "vae.pretrain_epochs=2", "vae.batches_per_epoch=2", "vae.batch_size=16", "vae.online_every=0",
    "td3.hidden_sizes=32,32", "td3.batch_size=32", "train.min_steps_before_training=20", "train.updates_per_step=1",
])  # fmt: skip
"""config_overrides that make the VAE pretrain in seconds."""


def frame(robot: str, episode_id: int, step: int) -> np.ndarray:
    """The frame a robot saw at a step (next_observation of step t is the observation of step t + 1)."""
    seed = [sum(map(ord, robot)), episode_id, step]
    return np.random.default_rng(seed).integers(0, 256, (SIZE, SIZE, 3), np.uint8)


def transition(factory: MessageFactory, robot: str, episode_id: int, step: int, horizon: int, **changes: Any) -> Any:
    """Step ``step`` of an episode of ``horizon`` steps; ``changes`` replace fields."""
    stamp = factory.new("builtin_interfaces/msg/Time", sec=step)
    fields: dict[str, Any] = {
        "robot_id": robot,
        "episode_id": episode_id,
        "step": step,
        "observation": rgb_to_image(factory, frame(robot, episode_id, step), stamp, "rig_camera"),
        "action": np.array([0.5, -0.25], np.float32),
        "next_observation": rgb_to_image(factory, frame(robot, episode_id, step + 1), stamp, "rig_camera"),
        "goal_latent": np.zeros(LATENT_DIM, np.float32),
        "episode_end": step == horizon - 1,
        "weights_version": 0,
    }
    return factory.new("rig_msgs/msg/Transition", **(fields | changes))


def episode(factory: MessageFactory, robot: str, episode_id: int, horizon: int) -> list[Any]:
    """Every transition of one episode, in order."""
    return [transition(factory, robot, episode_id, step, horizon) for step in range(horizon)]
