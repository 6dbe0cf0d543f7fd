"""Conversions between the policy's messages and numpy / rig_core values (messages of either backend)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rig_core.images import to_model_input
from rig_core.weights import WeightsBundle
from rig_policy_node.controller import Stamp, TransitionRecord
from rig_transport import MessageFactory
from rig_transport.images import image_to_rgb, rgb_to_image


def model_image(msg: Any, size: int) -> np.ndarray:
    """A sensor_msgs/Image of any size in rgb8/bgr8/mono8/rgba8/bgra8 as the model's (size, size, 3) uint8 RGB
    input (centre crop + resize); raises ValueError naming the problem for a malformed image."""
    return to_model_input(image_to_rgb(msg), size)


def bundle_from_msg(msg: Any) -> WeightsBundle:
    """The WeightsBundle a rig_msgs/ModelWeights carries (nothing is checked here: load_policy_weights does)."""
    data = msg.data
    raw = bytes(data) if isinstance(data, (bytes, bytearray)) else np.asarray(data, np.uint8).tobytes()
    return WeightsBundle(
        format=str(msg.format),
        version=int(msg.version),
        sha256=str(msg.sha256),
        task=str(msg.task),
        image_size=int(msg.image_size),
        latent_dim=int(msg.latent_dim),
        action_dim=int(msg.action_dim),
        config_json=str(msg.config_json),
        data=raw,
    )


def time_msg(factory: MessageFactory, stamp: Stamp) -> Any:
    """The builtin_interfaces/Time of a (sec, nanosec) stamp."""
    return factory.new("builtin_interfaces/msg/Time", sec=stamp[0], nanosec=stamp[1])


def transition_msg(factory: MessageFactory, record: TransitionRecord, robot_id: str, session_id: str, stamp: Any,
                   frame_id: str) -> Any:  # fmt: skip
    """A rig_msgs/Transition of one step of the policy run ``session_id``, stamped ``stamp`` (when first sent); its
    images carry their camera frames' stamps."""
    return factory.new(
        "rig_msgs/msg/Transition",
        header=factory.new("std_msgs/msg/Header", stamp=stamp, frame_id=frame_id),
        robot_id=robot_id,
        session_id=session_id,
        episode_id=record.episode_id,
        step=record.step,
        observation=rgb_to_image(factory, record.observation, time_msg(factory, record.observation_stamp), frame_id),
        action=np.asarray(record.action, np.float32),
        next_observation=rgb_to_image(factory, record.next_observation,
                                      time_msg(factory, record.next_observation_stamp), frame_id),  # fmt: skip
        goal_latent=np.asarray(record.goal_latent, np.float32),
        episode_end=record.episode_end,
        weights_version=record.weights_version,
    )


def twist_msg(factory: MessageFactory, velocity: tuple[float, float], stamp: Any) -> Any:
    """A geometry_msgs/TwistStamped moving the hand in the task plane (x across the table, y away from the robot)."""
    linear = factory.new("geometry_msgs/msg/Vector3", x=velocity[0], y=velocity[1], z=0.0)
    return factory.new(
        "geometry_msgs/msg/TwistStamped",
        header=factory.new("std_msgs/msg/Header", stamp=stamp),
        twist=factory.new("geometry_msgs/msg/Twist", linear=linear),
    )
