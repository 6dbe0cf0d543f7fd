"""Conversions between the trainer's messages and numpy / rig_core values (messages of either backend)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rig_core.weights import WeightsBundle
from rig_trainer_node.assembler import StepRecord, TransitionError
from rig_transport import MessageFactory
from rig_transport.images import image_to_rgb


@dataclass(frozen=True)
class ModelShape:
    """What every transition must fit: the model's image side, action size and latent size."""

    image_size: int
    action_dim: int
    latent_dim: int


def step_from_msg(msg: Any, shape: ModelShape) -> StepRecord:
    """A validated rig_msgs/Transition; raises TransitionError naming the first problem."""
    robot_id = str(msg.robot_id)
    if not robot_id:
        raise TransitionError("transition without a robot_id")
    action = _vector(msg.action, shape.action_dim, "action")
    if np.abs(action).max(initial=0.0) > 1.0:
        raise TransitionError(f"action {action.tolist()} is outside [-1, 1]")
    return StepRecord(
        robot_id=robot_id,
        session_id=str(msg.session_id),
        episode_id=int(msg.episode_id),
        step=int(msg.step),
        observation=_model_image(msg.observation, shape.image_size, "observation"),
        action=action,
        next_observation=_model_image(msg.next_observation, shape.image_size, "next_observation"),
        goal=_vector(msg.goal_latent, shape.latent_dim, "goal_latent"),
        episode_end=bool(msg.episode_end),
    )


def weights_msg(factory: MessageFactory, bundle: WeightsBundle, stamp: Any) -> Any:
    """The rig_msgs/ModelWeights of a bundle."""
    return factory.new(
        "rig_msgs/msg/ModelWeights",
        header=factory.new("std_msgs/msg/Header", stamp=stamp),
        format=bundle.format,
        version=bundle.version,
        sha256=bundle.sha256,
        task=bundle.task,
        image_size=bundle.image_size,
        latent_dim=bundle.latent_dim,
        action_dim=bundle.action_dim,
        config_json=bundle.config_json,
        data=bundle.data,
    )


def _model_image(msg: Any, size: int, what: str) -> np.ndarray:
    """An image the model takes as it is: size x size rgb8 (the policy node resizes before sending)."""
    if str(msg.encoding) != "rgb8" or (int(msg.height), int(msg.width)) != (size, size):
        raise TransitionError(f"{what} is {msg.width}x{msg.height} {msg.encoding!r}; the model takes {size}x{size} rgb8")
    try:
        return image_to_rgb(msg)
    except ValueError as error:
        raise TransitionError(f"{what}: {error}") from error


def _vector(values: Any, size: int, what: str) -> np.ndarray:
    vector = np.asarray(values, np.float32).reshape(-1)
    if vector.size != size:
        raise TransitionError(f"{what} has {vector.size} values, the model's is {size}")
    if not np.isfinite(vector).all():
        raise TransitionError(f"{what} holds NaN or infinite values")
    return vector
