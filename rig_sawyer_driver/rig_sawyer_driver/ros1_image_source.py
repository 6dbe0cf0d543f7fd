"""Camera frames from a ROS 1 sensor_msgs/Image topic: the Sawyer's head and hand cameras, Gazebo's cameras.

camera_node opens it for a source ``ros1:<topic>``, e.g. ``ros1:/io/internal_camera/right_hand_camera/image_raw``
(`rig_drivers.frame_sources.open_source`). The process becomes a ROS 1 node too (`ros1.init_node`, anonymous, so
that several cameras can run), with a `MasterWatch`.

Usage::

    source = Ros1ImageSource("/io/internal_camera/head_camera/image_raw")   # SourceError if no master answers
    rgb = source.read()      # the newest frame as (H, W, 3) uint8 RGB, or None if none arrived since the last read
    source.close()
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from rig_drivers.frame_sources import SourceError
from rig_sawyer_driver import ros1
from rig_sawyer_driver.master_watch import MasterWatch
from rig_sawyer_driver.ros1 import rosgraph, rospy, sensor_msgs
from rig_transport.images import image_to_rgb

NODE_NAME = "rig_camera"
BUFFER_BYTES = 1 << 24
"""rospy's receive buffer: larger than a frame, or a subscriber with queue_size=1 lags behind (rospy's docs)."""


class Ros1ImageSource:
    """The newest frame of a ROS 1 image topic (rgb8, bgr8, rgba8, bgra8, mono8; others rejected with a log line)."""

    def __init__(self, topic: str) -> None:
        self.description = f"ROS 1 topic {topic}"
        if not rosgraph.is_master_online():
            raise SourceError(f"cannot subscribe to {self.description}: no ROS master at {rosgraph.get_master_uri()}")
        if not rospy.core.is_initialized():
            ros1.init_node(NODE_NAME, anonymous=True)
            MasterWatch().start()
        self._lock = threading.Lock()
        self._frame: np.ndarray | None = None
        self._last_error = ""
        self._subscriber = rospy.Subscriber(topic, sensor_msgs.msg.Image, self._on_image, queue_size=1,
                                            buff_size=BUFFER_BYTES)  # fmt: skip

    def _on_image(self, msg: Any) -> None:
        try:
            rgb = image_to_rgb(msg)
        except ValueError as error:
            if str(error) != self._last_error:  # once per kind of bad frame, not at the frame rate
                rospy.logwarn("%s: frame rejected: %s", self.description, error)
                self._last_error = str(error)
            return
        self._last_error = ""
        with self._lock:
            self._frame = rgb

    def read(self) -> np.ndarray | None:
        """The newest frame received since the previous read, or None."""
        with self._lock:
            frame, self._frame = self._frame, None
        return frame

    def close(self) -> None:
        self._subscriber.unregister()
