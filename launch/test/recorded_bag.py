"""A `rig record` recording of known messages over real DDS (shared by test_record.py, which reads the bag back with
Python's MCAP reader, and test_record_foxglove.py, which reads it with the Foxglove app's libraries): what was sent,
the bag's metadata.yaml, and the check that what a reader decoded is what was sent."""

from __future__ import annotations

import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from rig_transport import LATCHED, REPLAY, SENSOR_DATA
from rig_transport.images import rgb_to_image
from rig_transport.scripts import installed_script
from rig_transport.testing import wait_until_matched

RIG = installed_script("rig")
SIZE = 84
TRANSITIONS = 12
FRAMES = 5
MAX_BAG_SIZE = 100_000
"""About four transitions (two 84x84 rgb8 images each, 42 KB) per file."""


def image(transport, seed: int):
    rgb = np.random.default_rng(seed).integers(0, 256, (SIZE, SIZE, 3), np.uint8)
    return rgb_to_image(transport, rgb, transport.new("builtin_interfaces/msg/Time", sec=seed, nanosec=7), "rig_camera")


def transition(transport, step: int):
    return transport.new(
        "rig_msgs/msg/Transition", robot_id="sawyer_a", episode_id=3, step=step, observation=image(transport, step),
        action=np.array([0.5, -step / TRANSITIONS], np.float32), next_observation=image(transport, step + 1),
        goal_latent=np.arange(16, dtype=np.float32) * step, episode_end=step == TRANSITIONS - 1, weights_version=9,
    )  # fmt: skip


@dataclass
class Recording:
    """A finished recording: its directory, metadata.yaml's ``rosbag2_bagfile_information`` and what was sent."""

    bag: Path
    info: dict
    goal_image: Any
    transitions: list
    frames: list

    @property
    def files(self) -> list[Path]:
        return [self.bag / name for name in self.info["relative_file_paths"]]

    @property
    def counts(self) -> dict[str, int]:
        return {topic["topic_metadata"]["name"]: topic["message_count"] for topic in self.info["topics_with_message_count"]}


def record_known_messages(test_node, start_node, bag: Path) -> Recording:
    """`rig record` (every topic but /rig/weights, split by size) of a latched goal image published before it starts,
    TRANSITIONS transitions and FRAMES best-effort camera frames; stopped with Ctrl-C once it has them."""
    transport = test_node.transport
    goal = transport.create_publisher("/rig/goal_image", "sensor_msgs/msg/Image", LATCHED)
    goal_image = image(transport, 1000)
    goal.publish(goal_image)  # before the recorder starts: latched, so it is recorded all the same
    transitions = transport.create_publisher("/rig/replay/transitions", "rig_msgs/msg/Transition", REPLAY)
    camera = transport.create_publisher("/rig/camera/image_raw", "sensor_msgs/msg/Image", SENSOR_DATA)
    test_node.start()
    recorder = start_node("rig_record", {}, [RIG, "record", "--out", str(bag), "--exclude", "/rig/weights",
                                             "--max-bag-size", str(MAX_BAG_SIZE)])  # fmt: skip
    wait_until_matched(transitions, recorder)
    wait_until_matched(camera, recorder)
    sent = [transition(transport, step) for step in range(TRANSITIONS)]
    frames = [image(transport, 2000 + index) for index in range(FRAMES)]
    for msg in sent:
        transitions.publish(msg)
    for frame in frames:  # best effort: the recording may miss a frame, never alter one
        camera.publish(frame)
    recorder.wait_for_log(f"/rig/replay/transitions {TRANSITIONS}")
    recorder.wait_for_log("/rig/goal_image 1")
    assert recorder.stop(signal.SIGINT) == 0, recorder.log()
    info = yaml.safe_load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    return Recording(bag, info, goal_image, sent, frames)


def assert_same_image(decoded, sent) -> None:
    assert (decoded.height, decoded.width, decoded.encoding, decoded.step) == (sent.height, sent.width, "rgb8", SIZE * 3)
    assert (decoded.header.stamp.sec, decoded.header.stamp.nanosec, decoded.header.frame_id) == (
        sent.header.stamp.sec, sent.header.stamp.nanosec, "rig_camera")  # fmt: skip
    assert bytes(decoded.data) == bytes(sent.data)


def assert_decoded_as_sent(back: dict[str, list], recording: Recording) -> None:
    """`back` (a reader's decoded messages per topic, in order, with attribute access) holds what was sent."""
    (recorded_goal,) = back["/rig/goal_image"]
    assert_same_image(recorded_goal, recording.goal_image)
    assert len(back["/rig/replay/transitions"]) == TRANSITIONS
    for decoded, msg in zip(back["/rig/replay/transitions"], recording.transitions):
        assert (decoded.robot_id, decoded.episode_id, decoded.step, decoded.episode_end, decoded.weights_version) == (
            msg.robot_id, msg.episode_id, msg.step, msg.episode_end, msg.weights_version)  # fmt: skip
        assert list(decoded.action) == list(msg.action) and list(decoded.goal_latent) == list(msg.goal_latent)
        assert_same_image(decoded.observation, msg.observation)
        assert_same_image(decoded.next_observation, msg.next_observation)
    frames = recording.frames
    recorded_frames = back.get("/rig/camera/image_raw", [])
    indices = [next(i for i, frame in enumerate(frames) if bytes(frame.data) == bytes(r.data)) for r in recorded_frames]
    assert indices == sorted(indices)  # each recorded frame is one that was sent, in order
    for index, recorded in zip(indices, recorded_frames):
        assert_same_image(recorded, frames[index])
