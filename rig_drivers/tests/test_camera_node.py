"""The camera node as a process: 84x84 rgb8 frames over real DDS from an image folder and a video file, and a
clean exit code 2 for a source that cannot be opened."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from drivers_testing import write_folder, write_video

from rig_core.images import to_model_input
from rig_drivers.camera_node import EXIT_BAD_SOURCE, IMAGE_TOPIC
from rig_transport import SENSOR_DATA
from rig_transport.images import image_to_rgb
from rig_transport.testing import TIMEOUT_S, NodeProcess, TestNode, script_args

SCRIPT = "rig_camera_node"
FRAME = f"test_camera_{os.getpid()}"  # frames of other test runs that share the domain are not ours


def receive_until_looped(test_node: TestNode, node: NodeProcess, expected: list[np.ndarray]) -> None:
    """Receive frames until every one of ``expected`` has been seen and the source has looped (an index went down).

    Every frame must be 84x84 rgb8 in the FRAME frame and equal to one of ``expected``."""
    listener = test_node.listen(IMAGE_TOPIC, "sensor_msgs/msg/Image", SENSOR_DATA)
    test_node.start()
    indices: list[int] = []
    while set(indices) != set(range(len(expected))) or all(b >= a for a, b in zip(indices, indices[1:])):
        msg = listener.wait_for(lambda msg: msg.header.frame_id == FRAME, "a camera frame", node)
        assert (msg.width, msg.height, msg.encoding, msg.step) == (84, 84, "rgb8", 84 * 3)
        rgb = image_to_rgb(msg)
        matches = [index for index, frame in enumerate(expected) if np.array_equal(rgb, frame)]
        assert matches, "a published frame is not the model input of any source frame"
        indices.append(matches[0])


def test_image_folder_frames_are_model_inputs_and_loop(
    tmp_path: Path, test_node: TestNode, start_node: Callable[[str, dict[str, Any]], NodeProcess]
) -> None:
    images = write_folder(tmp_path / "frames", 3, shape=(120, 160))
    node = start_node(SCRIPT, {"source": str(tmp_path / "frames"), "rate_hz": 20.0, "frame_id": FRAME})
    receive_until_looped(test_node, node, [to_model_input(rgb, 84) for rgb in images])
    assert node.stop() == 0, node.log()


def test_video_file_frames_are_model_inputs_and_loop(
    tmp_path: Path, test_node: TestNode, start_node: Callable[[str, dict[str, Any]], NodeProcess]
) -> None:
    frames = write_video(tmp_path / "clip.avi", 5)
    node = start_node(SCRIPT, {"source": str(tmp_path / "clip.avi"), "rate_hz": 20.0, "frame_id": FRAME})
    receive_until_looped(test_node, node, [to_model_input(rgb, 84) for rgb in frames])
    assert node.stop() == 0, node.log()


@pytest.mark.parametrize("kind", ["missing", "empty_folder", "not_a_video", "no_device"])
def test_unusable_source_exits_2_with_one_error_line(tmp_path: Path, kind: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.avi").write_text("not a video")
    source = {"missing": str(tmp_path / "nothing"), "empty_folder": str(tmp_path / "empty"),
              "not_a_video": str(tmp_path / "bad.avi"), "no_device": "97"}[kind]  # fmt: skip
    done = subprocess.run(script_args(SCRIPT, {"source": source}), capture_output=True, text=True, timeout=TIMEOUT_S)
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == EXIT_BAD_SOURCE, lines
    assert len(lines) == 1 and "ERROR" in lines[0] and "Traceback" not in lines[0], lines
