"""The policy's logic without DDS: action <-> velocity, frames and goal images, episodes, goals, weights."""

from __future__ import annotations

import array
import dataclasses

import numpy as np
import pytest
import torch

from rig_core.agent import RIGAgent
from rig_core.config import RigConfig, apply_overrides, task_config
from rig_core.images import to_model_input
from rig_core.prior import LatentPrior
from rig_core.weights import WeightsBundle, WeightsError, pack_policy_weights
from rig_policy_node.controller import Decision, Mode, PolicyController, TransitionRecord, action_to_velocity
from rig_policy_node.messages import bundle_from_msg, model_image, transition_msg
from rig_transport.dds_types import default_types
from rig_transport.images import image_to_rgb

FACTORY = default_types()  # message classes only: no DomainParticipant
HORIZON = 3


def policy_config(task: str = "visual-reacher", image_size: int = 48) -> RigConfig:
    """What the node builds from its parameters."""
    return apply_overrides(task_config(task), [f"vae.image_size={image_size}"])


def weights(version: int = 1, task: str = "visual-reacher", image_size: int = 48) -> WeightsBundle:
    """A trainer's bundle with small networks (the policy takes the sizes from the bundle's config)."""
    torch.manual_seed(version)
    config = apply_overrides(policy_config(task, image_size), ["td3.hidden_sizes=32,32"])
    return pack_policy_weights(RIGAgent(config, 0, 2), version)


def controller(explore: bool = True) -> PolicyController:
    return PolicyController(policy_config(), HORIZON, explore, np.random.default_rng(0))


def frame(value: int) -> np.ndarray:
    return np.full((48, 48, 3), value, np.uint8)


def image_msg(pixels: np.ndarray, encoding: str, pad: int = 0) -> object:
    height, width = pixels.shape[:2]
    rows = pixels.reshape(height, -1)
    data = np.concatenate([rows, np.zeros((height, pad), np.uint8)], axis=1).tobytes()
    return FACTORY.new("sensor_msgs/msg/Image", height=height, width=width, encoding=encoding, step=rows.shape[1] + pad,
                       data=data)  # fmt: skip


def run_episode(policy: PolicyController, first_value: int = 0) -> list[TransitionRecord]:
    """Frames and ticks until the episode ends; the transitions in order."""
    transitions = []
    for value in range(first_value, first_value + HORIZON + 1):
        policy.observe(frame(value))
        decision = policy.tick()
        if decision.transition is not None:
            transitions.append(decision.transition)
    return transitions


def test_velocity_is_what_the_driver_turns_back_into_the_action():
    action = np.array([0.5, -1.0], np.float32)
    velocity = action_to_velocity(action, action_scale=0.01, rate_hz=10.0)
    assert velocity == pytest.approx((0.05, -0.1))
    assert np.array(velocity) / (0.01 * 10.0) == pytest.approx(action)  # the driver's a = v / (scale * rate)


@pytest.mark.parametrize("encoding", ["rgb8", "bgr8", "mono8", "rgba8", "bgra8"])
def test_goal_images_of_any_size_and_encoding_become_model_input(encoding):
    rgb = np.random.default_rng(1).integers(0, 256, (60, 100, 3), np.uint8)
    if encoding == "mono8":
        rgb = np.repeat(rgb[..., :1], 3, axis=2)
    alpha = np.full((60, 100, 1), 255, np.uint8)
    raw = {"rgb8": rgb, "bgr8": rgb[..., ::-1], "mono8": rgb[..., :1], "rgba8": np.concatenate([rgb, alpha], 2),
           "bgra8": np.concatenate([rgb[..., ::-1], alpha], 2)}[encoding]  # fmt: skip
    converted = model_image(image_msg(np.ascontiguousarray(raw), encoding, pad=4), 48)
    assert converted.shape == (48, 48, 3) and converted.dtype == np.uint8
    assert np.array_equal(converted, to_model_input(rgb, 48))


@pytest.mark.parametrize(
    ("msg", "problem"),
    [
        (FACTORY.new("sensor_msgs/msg/Image", height=4, width=4, encoding="yuv422", step=8, data=bytes(32)), "encoding"),
        (FACTORY.new("sensor_msgs/msg/Image", height=4, width=4, encoding="rgb8", step=12, data=bytes(40)), r"height \* step"),
        (FACTORY.new("sensor_msgs/msg/Image", height=0, width=0, encoding="rgb8", step=0, data=b""), "empty"),
    ],
)
def test_bad_goal_images_are_rejected_with_the_reason(msg, problem):
    with pytest.raises(ValueError, match=problem):
        model_image(msg, 48)


def test_episode_runs_to_the_horizon_then_waits_for_its_reset():
    policy = controller()
    assert policy.tick() == Decision()  # no frame yet: nothing to do
    policy.observe(frame(0), (100, 0))
    first = policy.tick()
    assert first.action is not None and first.transition is None and np.abs(first.action).max() <= 1.0
    assert policy.tick() == Decision()  # acts only on a frame newer than its last action
    decisions = []
    for value in range(1, HORIZON + 1):
        policy.observe(frame(value), (100 + value, 5))  # each frame's own camera stamp
        decisions.append(policy.tick())
    transitions, end = [d.transition for d in decisions], decisions[-1]
    assert [t.step for t in transitions] == list(range(HORIZON))
    assert [t.episode_end for t in transitions] == [False] * (HORIZON - 1) + [True]
    assert all(t.episode_id == 0 and t.weights_version == 0 for t in transitions)
    assert all(np.array_equal(t.goal_latent, np.zeros(16, np.float32)) for t in transitions)  # no weights: zero goal
    assert [int(t.observation[0, 0, 0]) for t in transitions] == list(range(HORIZON))
    assert [int(t.next_observation[0, 0, 0]) for t in transitions] == list(range(1, HORIZON + 1))
    assert [t.observation_stamp for t in transitions] == [(100, 0), (101, 5), (102, 5)]  # the stamps go with the frames
    assert [t.next_observation_stamp for t in transitions] == [(101, 5), (102, 5), (103, 5)]
    assert np.array_equal(transitions[0].action, first.action)
    assert end.reset_request == 0 and np.array_equal(end.action, np.zeros(2)) and policy.mode is Mode.IDLE

    policy.observe(frame(9))
    assert policy.tick() == Decision()  # waiting for the reset: no command, no transition
    assert not policy.reset_done(episode_id=5)
    assert policy.reset_done(episode_id=0)
    assert (policy.episode_id, policy.step, policy.resetting) == (1, 0, False)
    assert policy.tick() == Decision()  # the frame from before the reset does not start the episode
    assert len(run_episode(policy)) == HORIZON


def test_weights_hot_swap_and_rejected_bundles_keep_the_last_good_ones():
    policy = controller()
    good = weights(1)
    assert policy.load_weights(good) and policy.weights_version == 1
    assert not policy.load_weights(good)  # the same bundle again (latched redelivery)
    second = weights(2)
    tampered = dataclasses.replace(second, data=bytes([second.data[0] ^ 1]) + second.data[1:])
    for bad, problem in [(tampered, "sha256"), (weights(3, task="visual-pusher"), "task"),
                         (weights(4, image_size=84), "image size"),
                         (dataclasses.replace(weights(5), config_json="{"), "config_json")]:  # fmt: skip
        with pytest.raises(WeightsError, match=problem):
            policy.load_weights(bad)
        assert policy.weights_version == 1
    transitions = run_episode(policy)
    assert all(t.weights_version == 1 for t in transitions)
    assert np.linalg.norm(transitions[0].goal_latent) > 0 and np.isfinite(policy.latent_distance)


def test_operator_goal_from_the_next_step_until_cleared_and_imagined_goals_per_episode():
    policy = controller(explore=False)
    with pytest.raises(ValueError, match="no camera frame"):
        policy.capture_goal()
    policy.load_weights(weights(1))
    agent = policy.agent
    assert policy.mode is Mode.IMAGINED_GOAL
    policy.observe(frame(10))
    policy.tick()
    policy.set_goal_image(frame(200))
    assert policy.mode is Mode.OPERATOR_GOAL
    policy.observe(frame(11))
    imagined = policy.tick().transition.goal_latent  # step 0 was chosen before the goal was set
    policy.observe(frame(12))
    operator = policy.tick().transition.goal_latent
    assert np.allclose(operator, agent.encode_goal(frame(200)[None])[0])
    policy.clear_goal()
    assert policy.mode is Mode.IMAGINED_GOAL
    policy.observe(frame(13))
    end = policy.tick()
    assert end.reset_request == 0 and np.array_equal(end.transition.goal_latent, operator)
    policy.reset_done(0)
    policy.capture_goal()  # the newest frame
    next_episode = run_episode(policy, first_value=50)
    assert np.allclose(next_episode[1].goal_latent, agent.encode_goal(frame(13)[None])[0])
    policy.clear_goal()
    policy.reset_done(1)
    new_imagined = run_episode(policy)[1].goal_latent
    assert not np.allclose(new_imagined, imagined)  # a fresh prior sample for a new episode


def test_operator_goal_latents_are_clamped_to_the_bundles_goal_prior_when_it_says_so():
    trainer = RIGAgent(apply_overrides(policy_config(), ["td3.hidden_sizes=32,32", "train.goal_clip_std=3"]), 0, 2)
    latent_dim = trainer.config.vae.latent_dim
    trainer.prior = LatentPrior(np.full(latent_dim, 5.0, np.float32), np.full(latent_dim, 0.1, np.float32))
    policy = controller(explore=False)
    policy.load_weights(pack_policy_weights(trainer, 1))
    policy.observe(frame(10))
    policy.tick()
    policy.set_goal_image(frame(200))
    policy.observe(frame(11))
    policy.tick()
    policy.observe(frame(12))
    goal = policy.tick().transition.goal_latent
    assert np.all(policy.agent.encode(frame(200)[None])[0] < 4.7)  # the raw encoding lies outside mean ± 3 std
    np.testing.assert_allclose(goal, 4.7, rtol=1e-6)


def test_messages_carry_bundles_and_transitions_intact():
    bundle = weights(7)
    fields = {field.name: getattr(bundle, field.name) for field in dataclasses.fields(bundle)}
    assert bundle_from_msg(FACTORY.new("rig_msgs/msg/ModelWeights", **fields)) == bundle
    fields["data"] = array.array("B", bundle.data)  # how rclpy delivers uint8[] (the DDS backend: bytes)
    assert bundle_from_msg(FACTORY.new("rig_msgs/msg/ModelWeights", **fields)) == bundle
    record = TransitionRecord(3, 4, frame(1), np.array([0.5, -0.5], np.float32), frame(2), np.ones(16, np.float32), True, 7,
                              (0, 200), (0, 300))  # fmt: skip
    stamp = FACTORY.new("builtin_interfaces/msg/Time", sec=1)
    msg = transition_msg(FACTORY, record, "sawyer_x", "run1", stamp, "rig_camera")
    assert (msg.robot_id, msg.session_id, msg.episode_id, msg.step) == ("sawyer_x", "run1", 3, 4)
    assert (msg.episode_end, msg.weights_version) == (True, 7)
    assert np.array_equal(image_to_rgb(msg.next_observation), frame(2)) and msg.observation.encoding == "rgb8"
    assert (msg.header.stamp.sec, msg.observation.header.stamp.nanosec, msg.next_observation.header.stamp.nanosec) == (
        1, 200, 300)  # sent at 1 s; each image stamped by its camera frame  # fmt: skip
    assert list(msg.action) == [0.5, -0.5] and list(msg.goal_latent) == [1.0] * 16
