"""Where camera frames come from: an OpenCV device, a video file (looping), an image folder (looping) or a ROS 1
image topic (``ros1:<topic>``, e.g. the Sawyer's hand camera; needs rig_sawyer_driver and rospy, imported only then).

Usage::

    source = open_source("0")          # device index, video file, image folder or ros1:<topic>; SourceError if unusable
    rgb = source.read()                # (H, W, 3) uint8 RGB, or None when no frame could be read this time
    source.close()
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
ROS1_PREFIX = "ros1:"


class SourceError(Exception):
    """A frame source that cannot be opened at all (missing device, file or folder, unreadable video)."""


class FrameSource(Protocol):
    """A stream of RGB frames."""

    description: str

    def read(self) -> np.ndarray | None:
        """The next (H, W, 3) uint8 RGB frame, or None if none could be read now (the caller tries again later)."""

    def close(self) -> None:
        """Release the device or file."""


class DeviceSource:
    """An OpenCV camera device; after a failed read it is reopened on the next read (unplugged and back)."""

    def __init__(self, index: int) -> None:
        self.description = f"camera device {index}"
        self._index = index
        self._capture = cv2.VideoCapture(index)
        if not self._capture.isOpened():
            raise SourceError(f"cannot open {self.description}")
        self._capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # newest frame, not one queued seconds ago
        self._failed = False

    def read(self) -> np.ndarray | None:
        if self._failed:
            self._capture.release()
            self._capture.open(self._index)
            self._capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        ok, bgr = self._capture.read() if self._capture.isOpened() else (False, None)
        self._failed = not ok
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if ok else None

    def close(self) -> None:
        self._capture.release()


class VideoSource:
    """A video file played frame by frame, back to the start after its last frame."""

    def __init__(self, path: Path) -> None:
        self.description = f"video file {path}"
        self._capture = cv2.VideoCapture(str(path))
        if not self._capture.isOpened() or not self._capture.read()[0]:
            self._capture.release()
            raise SourceError(f"cannot read {self.description}: not a video OpenCV can decode")
        self._rewind()

    def read(self) -> np.ndarray | None:
        ok, bgr = self._capture.read()
        if not ok:  # end of the video: loop
            self._rewind()
            ok, bgr = self._capture.read()
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if ok else None

    def close(self) -> None:
        self._capture.release()

    def _rewind(self) -> None:
        self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)


class FolderSource:
    """The images of a folder (*.png, *.jpg, *.jpeg) in sorted name order, looping; an unreadable file gives None."""

    def __init__(self, path: Path) -> None:
        self.description = f"image folder {path}"
        self.files = sorted(file for file in path.iterdir() if file.suffix.lower() in IMAGE_SUFFIXES and file.is_file())
        if not self.files:
            raise SourceError(f"{self.description} has no {'/'.join(IMAGE_SUFFIXES)} images")
        self._next = 0

    def read(self) -> np.ndarray | None:
        file = self.files[self._next]
        self._next = (self._next + 1) % len(self.files)
        bgr = cv2.imread(str(file), cv2.IMREAD_COLOR)
        return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        """Nothing to release."""


def open_ros1_topic(topic: str) -> FrameSource:
    """The newest frames of a ROS 1 sensor_msgs/Image topic (rig_sawyer_driver.ros1_image_source, imported here so
    that everything else works without ROS 1); SourceError if that package, rospy or a ROS master is missing."""
    if not topic.startswith("/"):
        raise SourceError(f"{ROS1_PREFIX} source needs an absolute topic name, e.g. ros1:/camera/image_raw, got {topic!r}")
    try:
        from rig_sawyer_driver.ros1_image_source import Ros1ImageSource
    except ImportError as error:
        raise SourceError(f"a {ROS1_PREFIX} source needs rig_sawyer_driver (pip install ./rig_sawyer_driver) and ROS 1's "
                          f"rospy: {error}") from error  # fmt: skip
    return Ros1ImageSource(topic)


def open_source(source: str) -> FrameSource:
    """A device index ("0"), a video file, an image folder or ``ros1:<topic>``; raises SourceError saying why it
    cannot be used."""
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # our own message instead of backend warnings
    text = source.strip()
    if text.startswith(ROS1_PREFIX):
        return open_ros1_topic(text[len(ROS1_PREFIX) :])
    if text.isdigit():
        return DeviceSource(int(text))
    path = Path(text).expanduser()
    if path.is_dir():
        return FolderSource(path)
    if path.is_file():
        return VideoSource(path)
    raise SourceError(f"source {source!r} is neither a camera device index, an existing video file or image folder, "
                      f"nor {ROS1_PREFIX}<topic>")  # fmt: skip
