"""The camera node on a ROS 1 image topic (source ``ros1:<topic>``): real rosmaster, a rospy publisher process, the
camera node as a process and its 84x84 frames over real DDS."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

pytest.importorskip("rig_sawyer_driver.ros1")

from rig_core.images import to_model_input
from rig_drivers.camera_node import EXIT_BAD_SOURCE, IMAGE_TOPIC
from rig_sawyer_driver.testing import Ros1Peer, RosMaster, free_port, ros1_env, ros1_peer
from rig_transport import SENSOR_DATA
from rig_transport.images import image_to_rgb
from rig_transport.testing import TIMEOUT_S, NodeProcess, TestNode, script_args

__all__ = ["ros1_env", "ros1_peer"]

SCRIPT = "rig_camera_node"
TOPIC = "/io/internal_camera/right_hand_camera/image_raw"
FRAME = f"test_ros1_camera_{os.getpid()}"
IMAGE = "sensor_msgs/Image"
PADDING = 8  # bytes at the end of every row: the source must honour step


def noise(seed: int, shape: tuple[int, int] = (60, 80)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)


def image_fields(rgb: np.ndarray, encoding: str) -> dict[str, Any]:
    """A ROS 1 sensor_msgs/Image of ``rgb`` in ``encoding``, rows padded by PADDING bytes."""
    pixels = {"rgb8": rgb, "bgr8": rgb[..., ::-1], "rgba8": cv2.cvtColor(rgb, cv2.COLOR_RGB2RGBA),
              "yuv422": rgb[..., :2]}[encoding]  # fmt: skip
    height, width = rgb.shape[:2]
    rows = np.ascontiguousarray(pixels).reshape(height, -1)
    padded = np.concatenate([rows, np.zeros((height, PADDING), np.uint8)], axis=1)
    return {"height": height, "width": width, "encoding": encoding, "is_bigendian": 0, "step": padded.shape[1],
            "data": padded.ravel().tolist()}  # fmt: skip


def start_camera(start_node: Callable[..., NodeProcess]) -> NodeProcess:
    return start_node(SCRIPT, {"source": f"ros1:{TOPIC}", "rate_hz": 20.0, "frame_id": FRAME})


def wait_for_frame(listener: Any, expected: np.ndarray, camera: NodeProcess) -> None:
    msg = listener.wait_for(lambda msg: msg.header.frame_id == FRAME and np.array_equal(image_to_rgb(msg), expected),
                            "the camera's frame of the published image", camera)  # fmt: skip
    assert (msg.width, msg.height, msg.encoding) == (84, 84, "rgb8")


def test_frames_of_a_ros1_topic_are_model_inputs_also_after_a_master_restart(
    ros1_env: RosMaster, ros1_peer: Callable[..., Ros1Peer], test_node: TestNode, start_node: Callable[..., NodeProcess]
) -> None:
    listener = test_node.listen(IMAGE_TOPIC, "sensor_msgs/msg/Image", SENSOR_DATA)
    test_node.start()
    camera = start_camera(start_node)
    first = ros1_peer("hand_camera")
    first.stream(TOPIC, IMAGE, image_fields(noise(1), "bgr8"), rate_hz=10.0)
    wait_for_frame(listener, to_model_input(noise(1), 84), camera)

    ros1_env.kill()
    ros1_env.start()
    first.kill()
    successor = ros1_peer("hand_camera_restarted")  # known to the new master only: the camera must have re-registered
    successor.stream(TOPIC, IMAGE, image_fields(noise(2), "rgb8"), rate_hz=10.0)
    wait_for_frame(listener, to_model_input(noise(2), 84), camera)
    assert camera.stop() == 0, camera.log()


def test_bad_encodings_are_logged_and_each_frame_is_read_once(
    ros1_peer: Callable[..., Ros1Peer], test_node: TestNode, start_node: Callable[..., NodeProcess]
) -> None:
    listener = test_node.listen(IMAGE_TOPIC, "sensor_msgs/msg/Image", SENSOR_DATA)
    test_node.start()
    camera = start_camera(start_node)
    no_frame = f"no frame from ROS 1 topic {TOPIC}"
    camera.wait_for_log(no_frame)  # nothing published yet
    publisher = ros1_peer("hand_camera")
    publisher.publish(TOPIC, IMAGE, image_fields(noise(3), "yuv422"))
    camera.wait_for_log("frame rejected: unsupported image encoding 'yuv422'")
    publisher.publish(TOPIC, IMAGE, image_fields(noise(4), "rgba8"))  # one frame, once
    wait_for_frame(listener, to_model_input(noise(4), 84), camera)
    camera.wait_for_log(f"frames from ROS 1 topic {TOPIC} again")
    deadline = time.monotonic() + TIMEOUT_S
    while camera.log().count(no_frame) < 2:  # the next tick has no new frame: read() gave it once only
        assert camera.alive() and time.monotonic() < deadline, camera.log()
        time.sleep(0.05)
    assert camera.stop() == 0, camera.log()


def test_no_ros_master_exits_2_with_one_error_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROS_MASTER_URI", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("ROS_HOME", str(tmp_path))
    done = subprocess.run(script_args(SCRIPT, {"source": f"ros1:{TOPIC}"}), capture_output=True, text=True,
                          timeout=TIMEOUT_S)  # fmt: skip
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == EXIT_BAD_SOURCE, lines
    assert len(lines) == 1 and "ERROR" in lines[0] and "no ROS master at" in lines[0], lines
