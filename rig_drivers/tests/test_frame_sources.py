"""Frame sources and the camera's per-tick logic, without any middleware."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from drivers_testing import write_folder, write_video

from rig_core.images import to_model_input
from rig_drivers.camera_node import CameraPublisher
from rig_drivers.frame_sources import FolderSource, SourceError, VideoSource, open_source


def test_folder_source_reads_in_sorted_order_and_loops(tmp_path: Path) -> None:
    images = write_folder(tmp_path / "frames", 3)
    (tmp_path / "frames" / "notes.txt").write_text("not an image")
    source = open_source(str(tmp_path / "frames"))
    assert isinstance(source, FolderSource) and len(source.files) == 3
    for expected in images + images[:1]:
        assert np.array_equal(source.read(), expected)


def test_folder_source_gives_none_for_an_unreadable_file_and_goes_on(tmp_path: Path) -> None:
    images = write_folder(tmp_path / "frames", 1)
    (tmp_path / "frames" / "frame_999.png").write_bytes(b"broken")
    source = open_source(str(tmp_path / "frames"))
    assert np.array_equal(source.read(), images[0])
    assert source.read() is None
    assert np.array_equal(source.read(), images[0])


def test_video_source_converts_to_rgb_and_loops_at_the_end(tmp_path: Path) -> None:
    frames = write_video(tmp_path / "clip.avi", 4)
    source = open_source(str(tmp_path / "clip.avi"))
    assert isinstance(source, VideoSource)
    read = [source.read() for _ in range(6)]
    for got, expected in zip(read, frames + frames[:2]):
        assert np.array_equal(got, expected)
    assert read[0][..., 0].mean() > read[0][..., 2].mean()  # written as BGR (20, g, 200): red, so R > B in RGB
    source.close()


@pytest.mark.parametrize("kind", ["missing", "empty_folder", "not_a_video", "no_device"])
def test_unusable_sources_raise_source_error(tmp_path: Path, kind: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.avi").write_text("not a video")
    source = {"missing": str(tmp_path / "nothing"), "empty_folder": str(tmp_path / "empty"),
              "not_a_video": str(tmp_path / "bad.avi"), "no_device": "97"}[kind]  # fmt: skip
    with pytest.raises(SourceError):
        open_source(source)


class FlakySource:
    """A source whose reads follow a script: an array is a frame, None a failed read."""

    description = "flaky test source"

    def __init__(self, script: list[np.ndarray | None]) -> None:
        self.script = script

    def read(self) -> np.ndarray | None:
        return self.script.pop(0)

    def close(self) -> None:
        """Nothing to release."""


def test_camera_publisher_crops_and_logs_a_failure_streak_once(caplog: pytest.LogCaptureFixture) -> None:
    frame = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    camera = CameraPublisher(FlakySource([frame, None, None, None, frame]), 32, logging.getLogger("camera_test"))
    with caplog.at_level(logging.INFO, logger="camera_test"):
        outputs = [camera.next_frame() for _ in range(5)]
    assert np.array_equal(outputs[0], to_model_input(frame, 32)) and outputs[0].shape == (32, 32, 3)
    assert outputs[1:4] == [None, None, None]
    assert np.array_equal(outputs[4], outputs[0])
    messages = [record.getMessage() for record in caplog.records]
    assert sum("no frame from flaky test source" in message for message in messages) == 1
    assert sum("frames from flaky test source again" in message for message in messages) == 1


def test_a_ros1_source_without_rig_sawyer_driver_or_rospy_is_a_source_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rig_sawyer_driver.ros1_image_source", None)  # as if it could not be imported
    with pytest.raises(SourceError, match="needs rig_sawyer_driver .* and ROS 1's rospy"):
        open_source("ros1:/io/internal_camera/right_hand_camera/image_raw")


def test_a_ros1_source_needs_an_absolute_topic() -> None:
    with pytest.raises(SourceError, match="absolute topic name"):
        open_source("ros1:camera/image_raw")


def test_the_camera_node_does_not_import_rospy(tmp_path: Path) -> None:
    probe = "import sys, rig_drivers.camera_node; print('rospy' in sys.modules, 'rig_sawyer_driver' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert done.stdout.split() == ["False", "False"]
