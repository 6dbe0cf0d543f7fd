"""The policy node as a process, over real DDS on loopback: the test plays camera, driver and trainer."""

from __future__ import annotations

import dataclasses
import signal

import numpy as np
import torch

from rig_core.agent import RIGAgent
from rig_core.config import apply_overrides, task_config
from rig_core.weights import WeightsBundle, pack_policy_weights, write_weights_file
from rig_transport import COMMAND, LATCHED, REPLAY, SENSOR_DATA, STATUS
from rig_transport.images import image_to_rgb, rgb_to_image

ROBOT = "sawyer_test"
RATE_HZ = 20.0
HORIZON = 50  # visual-reacher
ACTION_SCALE = 0.01  # visual-reacher


def weights_msg(factory, bundle: WeightsBundle) -> object:
    fields = {field.name: getattr(bundle, field.name) for field in dataclasses.fields(bundle)}
    return factory.new("rig_msgs/msg/ModelWeights", **fields)


def test_policy_node_acts_runs_episodes_and_takes_weights_and_goals(test_node, start_node):
    policy = start_node("rig_policy_node", {"robot_id": ROBOT, "image_size": 48, "rate_hz": RATE_HZ,
                                            "status_rate_hz": 5.0, "explore": True})  # fmt: skip
    transport = test_node.transport
    camera = transport.create_publisher("/rig/camera/image_raw", "sensor_msgs/msg/Image", SENSOR_DATA)
    episode_events = transport.create_publisher("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS)
    weights = transport.create_publisher("/rig/weights", "rig_msgs/msg/ModelWeights", LATCHED)
    goal = transport.create_publisher("/rig/goal_image", "sensor_msgs/msg/Image", LATCHED)
    commands = test_node.listen("/rig/cmd_ee_velocity", "geometry_msgs/msg/TwistStamped", COMMAND)
    transitions = test_node.listen("/rig/replay/transitions", "rig_msgs/msg/Transition", REPLAY)
    status = test_node.listen("/rig/policy/status", "rig_msgs/msg/PolicyStatus", STATUS)
    requests = []
    event_cls = type(transport.new("rig_msgs/msg/EpisodeEvent"))

    def driver(msg) -> None:  # answers every reset request of our robot at once
        if msg.event == event_cls.RESET_REQUEST and msg.robot_id == ROBOT:
            requests.append(int(msg.episode_id))
            episode_events.publish(transport.new("rig_msgs/msg/EpisodeEvent", robot_id=ROBOT, episode_id=msg.episode_id,
                                                 event=event_cls.RESET_DONE))  # fmt: skip

    transport.create_subscription("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS, driver)
    frames = iter(range(10**9))
    frame_stamps = set()
    rng = np.random.default_rng(0)

    def publish_frame() -> None:  # an 84x84 rgb8 camera, faster than the policy's rate
        pixels = rng.integers(0, 256, (84, 84, 3), np.uint8)
        stamp = transport.now()
        frame_stamps.add((stamp.sec, stamp.nanosec))
        camera.publish(rgb_to_image(transport, pixels, stamp, f"frame_{next(frames)}"))

    transport.create_timer(1.0 / (2 * RATE_HZ), publish_frame)
    test_node.start()

    # A whole random-exploration episode: consecutive steps, episode_end at the horizon, then a reset.
    episode = [transitions.wait_for(lambda m: m.step == 0, "the start of an episode", policy)]
    while not episode[-1].episode_end:  # reliable from here on: every transition arrives
        episode.append(transitions.wait_for(lambda m: True, "a transition", policy))
    assert [m.step for m in episode] == list(range(HORIZON))
    assert [m.episode_end for m in episode] == [False] * (HORIZON - 1) + [True]
    assert {(m.robot_id, m.weights_version) for m in episode} == {(ROBOT, 0)}
    for before, after in zip(episode, episode[1:]):
        assert np.array_equal(image_to_rgb(before.next_observation), image_to_rgb(after.observation))
    assert (episode[0].observation.height, episode[0].observation.width, episode[0].observation.encoding) == (48, 48, "rgb8")
    assert all(list(m.goal_latent) == [0.0] * 16 for m in episode)
    actions = np.array([m.action for m in episode], np.float32)
    assert actions.shape == (HORIZON, 2) and np.abs(actions).max() <= 1.0
    transitions.wait_for(lambda m: m.episode_id == episode[0].episode_id + 1 and m.step == 0, "the next episode", policy)
    assert episode[0].episode_id in requests

    # A command is v = a * action_scale * rate_hz of the action its transition carries.
    commands.clear()
    command = commands.wait_for(lambda m: m.twist.linear.x != 0.0, "a velocity command", policy)
    velocity = np.array([command.twist.linear.x, command.twist.linear.y])
    assert (command.header.stamp.sec, command.header.stamp.nanosec) in frame_stamps  # the frame it answers
    assert np.abs(velocity).max() <= ACTION_SCALE * RATE_HZ
    transitions.wait_for(lambda m: np.allclose(np.asarray(m.action) * ACTION_SCALE * RATE_HZ, velocity, atol=1e-9),
                         "the transition of that command's action", policy)  # fmt: skip

    # Hot swap: the trainer's weights (small networks) are taken and used.
    torch.manual_seed(0)
    config = apply_overrides(task_config("visual-reacher"), ["vae.image_size=48", "td3.hidden_sizes=32,32"])
    bundle = pack_policy_weights(RIGAgent(config, 0, 2), version=1)
    weights.publish(weights_msg(transport, bundle))
    status.wait_for(lambda m: m.weights_version == 1 and m.mode == "imagined_goal", "weights version 1 in use", policy)
    used = transitions.wait_for(lambda m: m.weights_version == 1, "a transition of weights version 1", policy)
    assert len(used.goal_latent) == 16 and any(used.goal_latent)

    # A tampered bundle is rejected and version 1 kept.
    second = pack_policy_weights(RIGAgent(config, 0, 2), version=2)
    tampered = dataclasses.replace(second, data=bytes([second.data[0] ^ 1]) + second.data[1:])
    weights.publish(weights_msg(transport, tampered))
    rejected = status.wait_for(lambda m: "sha256" in m.last_error, "the rejection in the status", policy)
    assert rejected.weights_version == 1

    # An operator goal in bgr8 of another size is used; a malformed one is rejected and the node keeps going.
    bgr = np.random.default_rng(1).integers(0, 256, (60, 100, 3), np.uint8)
    goal.publish(transport.new("sensor_msgs/msg/Image", height=60, width=100, encoding="bgr8", step=300, data=bgr.tobytes()))
    status.wait_for(lambda m: m.mode == "operator_goal", "operator_goal mode", policy)
    goal.publish(transport.new("sensor_msgs/msg/Image", height=10, width=10, encoding="rgb8", step=30, data=bytes(20)))
    bad = status.wait_for(lambda m: "goal image rejected" in m.last_error, "the goal rejection in the status", policy)
    assert "height * step" in bad.last_error
    assert not bad.goal_accepted and bad.goal_rejection == bad.last_error and bad.last_error_stamp.sec > 0
    alive = status.wait_for(lambda m: m.mode == "operator_goal" and m.weights_version == 1, "a status after it", policy)
    assert alive.robot_id == ROBOT and policy.alive()

    # The status answers a goal request by echoing its header; a request sent again is answered, not taken again.
    capture = transport.create_publisher("/rig/goal_image/capture", "std_msgs/msg/Header", STATUS)
    first = transport.new("std_msgs/msg/Header", stamp=transport.now(), frame_id="first")
    answered = None
    while answered is None:  # volatile: sent again until the policy's reader has matched ours
        capture.publish(first)
        answered = status.poll(lambda m: m.goal_request.frame_id == "first", timeout_s=2.0)
    assert (answered.goal_request.stamp.sec, answered.goal_request.stamp.nanosec) == (first.stamp.sec, first.stamp.nanosec)
    assert answered.goal_accepted and answered.goal_rejection == "" and answered.mode == "operator_goal"
    assert answered.last_error == "" and answered.last_error_stamp.sec == 0  # the goal error is over
    capture.publish(first)
    capture.publish(transport.new("std_msgs/msg/Header", stamp=transport.now(), frame_id="second"))
    status.wait_for(lambda m: m.goal_request.frame_id == "second" and m.goal_accepted, "the second capture's answer", policy)
    assert policy.log().count("operator goal set to the newest camera frame") == 2
    assert policy.stop(signal.SIGTERM) == 0


def test_policy_node_starts_with_a_weights_file_and_stops_on_a_bad_one(test_node, start_node, tmp_path):
    torch.manual_seed(0)
    config = apply_overrides(task_config("visual-reacher"), ["td3.hidden_sizes=32,32"])
    write_weights_file(pack_policy_weights(RIGAgent(config, 0, 2), version=5), tmp_path / "policy.safetensors")
    status = test_node.listen("/rig/policy/status", "rig_msgs/msg/PolicyStatus", STATUS)
    test_node.start()
    policy = start_node("rig_policy_node", {"robot_id": ROBOT, "weights_file": str(tmp_path / "policy.safetensors")})
    first = status.wait_for(lambda m: True, "a status", policy)
    assert (first.weights_version, first.mode) == (5, "imagined_goal")
    assert policy.stop() == 0

    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    bad = start_node("rig_policy_node", {"robot_id": ROBOT, "weights_file": str(tmp_path / "junk.safetensors")})
    assert bad.process.wait(120) == 1
    assert "junk.safetensors is not a rig weights file" in bad.log() and "Traceback" not in bad.log()
