"""Operator goal images aligned to the camera and judged, in the policy node as a process over real DDS: the test
plays a camera showing real MuJoCo renders and hands goal images as the real world makes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rig_core.envs import make_task
from rig_core.goal_preparation import prepare_goal
from rig_core.weights import policy_agent, read_weights_file
from rig_transport import COMMAND, LATCHED, REPLAY, SENSOR_DATA, STATUS
from rig_transport.images import rgb_to_image

WEIGHTS = Path(__file__).parents[2] / "launch" / "test" / "data" / "reacher_policy.safetensors"
"""The committed Visual Reacher policy (decoder and scene statistics included)."""


def in_reach_goal(env, rng: np.random.Generator) -> np.ndarray:
    """A goal state the hand can reach."""
    while env.hand_distance_floor(goal := env.sample_goal_state(rng)) > 0:
        pass
    return goal


@pytest.fixture(scope="module")
def scene():
    """The camera's view after a reset, and a clean render of a goal in the hand's reach (out of reach, the arm is
    drawn where it never went while practising: such a goal is unfamiliar)."""
    env = make_task("visual-reacher", image_size=84, seed=0)
    live, _ = env.reset(seed=3)
    rng = np.random.default_rng(4)
    goal_state = in_reach_goal(env, rng)
    goal = env.render_state(goal_state)
    env.close()
    return live, goal


def start(test_node, start_node, live: np.ndarray, align: bool):
    """The policy node acting greedily on a camera that shows `live`; the goal publisher and listeners."""
    policy = start_node("rig_policy_node", {"robot_id": "sawyer_goals", "weights_file": str(WEIGHTS), "explore": False,
                                            "status_rate_hz": 5.0, "align_goal_images": align})  # fmt: skip
    transport = test_node.transport
    camera = transport.create_publisher("/rig/camera/image_raw", "sensor_msgs/msg/Image", SENSOR_DATA)
    transport.create_timer(0.05, lambda: camera.publish(rgb_to_image(transport, live, transport.now(), "rig_camera")))
    goal = transport.create_publisher("/rig/goal_image", "sensor_msgs/msg/Image", LATCHED)
    episodes = transport.create_publisher("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS)
    event_cls = type(transport.new("rig_msgs/msg/EpisodeEvent"))

    def driver(msg) -> None:  # answers every reset request at once, so the policy keeps acting
        if msg.event == event_cls.RESET_REQUEST:
            episodes.publish(transport.new("rig_msgs/msg/EpisodeEvent", robot_id=msg.robot_id, episode_id=msg.episode_id,
                                           event=event_cls.RESET_DONE))  # fmt: skip

    transport.create_subscription("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS, driver)
    listeners = {
        "status": test_node.listen("/rig/policy/status", "rig_msgs/msg/PolicyStatus", STATUS),
        "transitions": test_node.listen("/rig/replay/transitions", "rig_msgs/msg/Transition", REPLAY),
        "commands": test_node.listen("/rig/cmd_ee_velocity", "geometry_msgs/msg/TwistStamped", COMMAND),
    }
    test_node.start()
    return policy, goal, listeners


def send_goal(test_node, goal, image: np.ndarray, sec: int) -> None:
    transport = test_node.transport
    goal.publish(rgb_to_image(transport, image, transport.new("builtin_interfaces/msg/Time", sec=sec), "operator"))


def darker_goal_sent(test_node, start_node, scene, align: bool):
    """The policy acting, then handed the clean goal render 25 % darker: (policy, goal publisher, listeners, agent,
    the darker goal, the first status naming the request)."""
    live, clean = scene
    agent = policy_agent(read_weights_file(WEIGHTS))
    policy, goal, heard = start(test_node, start_node, live, align)
    heard["status"].wait_for(lambda m: m.weights_version > 0, "weights in use", policy)
    darker = (clean * np.float32(0.75)).round().astype(np.uint8)
    send_goal(test_node, goal, darker, 1)
    wanted = (lambda m: m.goal_alignment) if align else (lambda m: m.goal_accepted)
    status = heard["status"].wait_for(lambda m: m.goal_request.stamp.sec == 1 and wanted(m), "the goal taken", policy)
    heard["transitions"].clear()
    return policy, goal, heard, agent, darker, status


def test_a_darker_goal_is_recoloured_and_an_unfamiliar_one_is_warned_about(test_node, start_node, scene):
    policy, goal, heard, agent, darker, status = darker_goal_sent(test_node, start_node, scene, align=True)
    assert "colour gains" in status.goal_alignment and status.goal_warning == "" and status.goal_accepted
    expected = agent.encode_goal(prepare_goal(agent, darker, scene[0]).image[None])[0]
    taken = heard["transitions"].wait_for(lambda m: np.allclose(m.goal_latent, expected, atol=1e-4),
                                          "a transition towards the aligned goal's latent", policy)  # fmt: skip
    assert not np.allclose(taken.goal_latent, agent.encode_goal(darker[None])[0], atol=1e-2)  # not the raw goal's

    send_goal(test_node, goal, np.full_like(darker, 255), 2)  # white: nothing like the scene the VAE trained on
    status = heard["status"].wait_for(lambda m: m.goal_request.stamp.sec == 2 and m.goal_warning, "a goal warning", policy)
    assert "unlike the VAE's training images" in status.goal_warning and status.goal_accepted
    assert "unlike the VAE's training images" in policy.log()
    heard["commands"].clear()
    heard["commands"].wait_for(lambda m: True, "commands after the warning", policy)  # taken, and the node acts on
    assert policy.stop() == 0


def test_with_alignment_off_the_goal_is_used_as_given(test_node, start_node, scene):
    policy, _, heard, agent, darker, status = darker_goal_sent(test_node, start_node, scene, align=False)
    expected = agent.encode_goal(darker[None])[0]
    heard["transitions"].wait_for(lambda m: np.allclose(m.goal_latent, expected, atol=1e-4),
                                  "a transition towards the raw goal's latent", policy)  # fmt: skip
    assert status.goal_alignment == "" and status.goal_warning == ""
    assert policy.stop() == 0
