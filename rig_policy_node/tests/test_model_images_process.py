"""The policy node's live model images, as a process over real DDS on loopback: the test plays camera, driver and
trainer, and checks every image against rig_core's VAE on the same weights."""

from __future__ import annotations

import numpy as np
import torch
from test_policy_process import ROBOT, weights_msg

from rig_core.agent import RIGAgent
from rig_core.config import apply_overrides, task_config
from rig_core.images import to_model_input
from rig_core.weights import pack_policy_weights, write_weights_file
from rig_policy_node.model_images import (
    GAP,
    GOAL_TOPIC,
    LABEL_HEIGHT,
    RECONSTRUCTION_TOPIC,
    STRIP_TOPIC,
    TOPICS,
    VIEW_SCALE,
    VIEWING_QOS,
    panel_origin,
)
from rig_transport import COMMAND, LATCHED, REPLAY, SENSOR_DATA, STATUS
from rig_transport.images import image_to_rgb, rgb_to_image

SIZE = 48
TOLERANCE = 1
"""uint8 levels a decoded pixel may differ by between two processes (float rounding of the same network)."""


def tiny_agent() -> RIGAgent:
    torch.manual_seed(0)
    config = apply_overrides(task_config("visual-reacher"), [f"vae.image_size={SIZE}", "td3.hidden_sizes=32,32"])
    return RIGAgent(config, 0, 2)


def play_camera_and_driver(test_node) -> dict[tuple[int, int], np.ndarray]:
    """An 84x84 random camera at 40 Hz and a driver answering every reset; returns the frames sent, by stamp."""
    transport = test_node.transport
    camera = transport.create_publisher("/rig/camera/image_raw", "sensor_msgs/msg/Image", SENSOR_DATA)
    episode_events = transport.create_publisher("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS)
    event_cls = type(transport.new("rig_msgs/msg/EpisodeEvent"))

    def driver(msg) -> None:
        if msg.event == event_cls.RESET_REQUEST and msg.robot_id == ROBOT:
            episode_events.publish(transport.new("rig_msgs/msg/EpisodeEvent", robot_id=ROBOT, episode_id=msg.episode_id,
                                                 event=event_cls.RESET_DONE))  # fmt: skip

    transport.create_subscription("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS, driver)
    sent: dict[tuple[int, int], np.ndarray] = {}
    rng = np.random.default_rng(0)

    def publish_frame() -> None:
        pixels, stamp = rng.integers(0, 256, (84, 84, 3), np.uint8), transport.now()
        sent[(stamp.sec, stamp.nanosec)] = pixels
        camera.publish(rgb_to_image(transport, pixels, stamp, "rig_camera"))

    transport.create_timer(0.025, publish_frame)
    return sent


def model_frame(sent: dict[tuple[int, int], np.ndarray], msg) -> np.ndarray:
    """The camera frame an image message was made from (by its stamp), as the model sees it."""
    return to_model_input(sent[(msg.header.stamp.sec, msg.header.stamp.nanosec)], SIZE)


def panel(strip: np.ndarray, index: int) -> np.ndarray:
    row, column = panel_origin(index, SIZE)
    return strip[row : row + SIZE * VIEW_SCALE, column : column + SIZE * VIEW_SCALE]


def upscale(image: np.ndarray) -> np.ndarray:
    """What a strip panel shows of an image: each pixel VIEW_SCALE x VIEW_SCALE."""
    return np.repeat(np.repeat(image, VIEW_SCALE, axis=0), VIEW_SCALE, axis=1)


def close(actual: np.ndarray, expected: np.ndarray) -> bool:
    return actual.shape == expected.shape and int(np.abs(actual.astype(int) - expected.astype(int)).max()) <= TOLERANCE


def test_model_images_show_the_frame_its_reconstruction_and_the_goal(test_node, start_node):
    policy = start_node("rig_policy_node", {"robot_id": ROBOT, "image_size": SIZE, "rate_hz": 20.0,
                                            "status_rate_hz": 5.0, "model_images_rate_hz": 5.0})  # fmt: skip
    transport = test_node.transport
    weights = transport.create_publisher("/rig/weights", "rig_msgs/msg/ModelWeights", LATCHED)
    goal = transport.create_publisher("/rig/goal_image", "sensor_msgs/msg/Image", LATCHED)
    status = test_node.listen("/rig/policy/status", "rig_msgs/msg/PolicyStatus", STATUS)
    transitions = test_node.listen("/rig/replay/transitions", "rig_msgs/msg/Transition", REPLAY)
    images = {topic: test_node.listen(topic, "sensor_msgs/msg/Image", VIEWING_QOS) for topic in TOPICS}
    sent = play_camera_and_driver(test_node)
    test_node.start()

    # Before weights: only the strip, its left panel the frame it shows, the others marked missing.
    strip_msg = images[STRIP_TOPIC].wait_for(lambda m: True, "a strip before weights", policy)
    assert (strip_msg.encoding, strip_msg.height, strip_msg.width) == ("rgb8", LABEL_HEIGHT + SIZE * VIEW_SCALE,
                                                                         3 * SIZE * VIEW_SCALE + 2 * GAP)  # fmt: skip
    strip = image_to_rgb(strip_msg)
    assert np.array_equal(panel(strip, 0), upscale(model_frame(sent, strip_msg)))
    assert len(np.unique(panel(strip, 1)[SIZE * VIEW_SCALE // 2 + 8 :])) == 1  # a plain grey panel below its text

    agent = tiny_agent()
    weights.publish(weights_msg(transport, pack_policy_weights(agent, version=1)))
    status.wait_for(lambda m: m.weights_version == 1, "weights version 1 in use", policy)
    for listener in images.values():
        listener.clear()

    # The reconstruction is the VAE's decode of the frame it names.
    reconstruction = images[RECONSTRUCTION_TOPIC].wait_for(lambda m: True, "a reconstruction", policy)
    assert (reconstruction.encoding, reconstruction.height, reconstruction.width) == ("rgb8", SIZE, SIZE)
    frame = model_frame(sent, reconstruction)
    assert close(image_to_rgb(reconstruction), agent.reconstruct(frame[None])[0])

    # Practising: the goal image is the decoded imagined goal that transitions carry as their goal latent.
    imagined = images[GOAL_TOPIC].wait_for(lambda m: True, "an imagined goal image", policy)
    assert (imagined.encoding, imagined.height, imagined.width) == ("rgb8", SIZE, SIZE)
    latents = {tuple(m.goal_latent) for m in transitions.clear() if m.weights_version == 1}
    latents.add(tuple(transitions.wait_for(lambda m: m.weights_version == 1, "a transition", policy).goal_latent))
    decoded = agent.decode(np.array(sorted(latents), np.float32))
    assert any(close(image_to_rgb(imagined), image) for image in decoded)

    # The strip: frame | its reconstruction | the goal, each upscaled.
    strip_msg = images[STRIP_TOPIC].wait_for(lambda m: True, "a strip with weights", policy)
    strip, frame = image_to_rgb(strip_msg), model_frame(sent, strip_msg)
    assert np.array_equal(panel(strip, 0), upscale(frame))
    assert close(panel(strip, 1), upscale(agent.reconstruct(frame[None])[0]))

    # An operator goal (bgr8, another size) is shown after crop and resize, alone and in the strip.
    bgr = np.random.default_rng(1).integers(0, 256, (60, 100, 3), np.uint8)
    goal.publish(transport.new("sensor_msgs/msg/Image", height=60, width=100, encoding="bgr8", step=300, data=bgr.tobytes()))
    expected = to_model_input(np.ascontiguousarray(bgr[:, :, ::-1]), SIZE)
    images[GOAL_TOPIC].wait_for(lambda m: np.array_equal(image_to_rgb(m), expected), "the operator goal image", policy)
    images[STRIP_TOPIC].wait_for(lambda m: np.array_equal(panel(image_to_rgb(m), 2), upscale(expected)),
                                 "a strip with the operator goal", policy)  # fmt: skip
    assert policy.stop() == 0


def test_no_model_images_at_rate_zero(test_node, start_node, tmp_path):
    write_weights_file(pack_policy_weights(tiny_agent(), version=3), tmp_path / "policy.safetensors")
    images = {topic: test_node.listen(topic, "sensor_msgs/msg/Image", VIEWING_QOS) for topic in TOPICS}
    commands = test_node.listen("/rig/cmd_ee_velocity", "geometry_msgs/msg/TwistStamped", COMMAND)
    play_camera_and_driver(test_node)
    test_node.start()
    policy = start_node("rig_policy_node", {"robot_id": ROBOT, "image_size": SIZE, "rate_hz": 20.0,
                                            "weights_file": str(tmp_path / "policy.safetensors"),
                                            "model_images_rate_hz": 0.0})  # fmt: skip
    for _ in range(40):  # 2 s of acting, where the default rate would have published every image twice
        commands.wait_for(lambda m: True, "a command", policy)
    assert all(listener.clear() == [] for listener in images.values())
    assert policy.stop() == 0
