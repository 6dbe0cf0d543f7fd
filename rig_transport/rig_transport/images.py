"""sensor_msgs/Image <-> numpy RGB, for messages of either backend (read by attribute), without ROS.

cv_bridge needs ROS, and rosbags-image ignores ``step`` (row padding), so the layout checks live here and
OpenCV does the colour conversions.

Usage::

    rgb = image_to_rgb(msg)                                   # (H, W, 3) uint8, raises ValueError if malformed
    msg = rgb_to_image(transport, rgb, transport.now(), "rig_camera")
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from rig_transport.interface import MessageFactory

# encoding -> (channels, OpenCV conversion to RGB or None when the bytes already are RGB)
ENCODINGS: dict[str, tuple[int, int | None]] = {
    "rgb8": (3, None),
    "bgr8": (3, cv2.COLOR_BGR2RGB),
    "mono8": (1, cv2.COLOR_GRAY2RGB),
    "rgba8": (4, cv2.COLOR_RGBA2RGB),
    "bgra8": (4, cv2.COLOR_BGRA2RGB),
}


def image_to_rgb(msg: Any) -> np.ndarray:
    """A new (H, W, 3) uint8 RGB array from a sensor_msgs/Image in one of :data:`ENCODINGS`.

    Honours ``step`` (rows may be padded); raises ValueError naming the problem for an unknown encoding, an
    empty image, a step shorter than a row, or a data length other than ``height * step``.
    """
    height, width, step, encoding = int(msg.height), int(msg.width), int(msg.step), str(msg.encoding)
    if encoding not in ENCODINGS:
        raise ValueError(f"unsupported image encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
    channels, conversion = ENCODINGS[encoding]
    if height == 0 or width == 0:
        raise ValueError(f"empty image: {width}x{height}")
    if step < width * channels:
        raise ValueError(f"step {step} is shorter than a row of {width} {encoding} pixels ({width * channels} bytes)")
    data = _as_uint8(msg.data)
    if data.size != height * step:
        raise ValueError(f"image data has {data.size} bytes, expected height * step = {height} * {step} = {height * step}")
    pixels = data.reshape(height, step)[:, : width * channels].reshape(height, width, channels)
    if conversion is None:
        return pixels.copy()
    return cv2.cvtColor(np.ascontiguousarray(pixels), conversion)


def rgb_to_image(factory: MessageFactory, rgb: np.ndarray, stamp: Any, frame_id: str) -> Any:
    """A sensor_msgs/Image (rgb8, unpadded: step = width * 3) of an (H, W, 3) uint8 array."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or rgb.size == 0:
        raise ValueError(f"expected a non-empty (H, W, 3) uint8 RGB array, got shape {rgb.shape} {rgb.dtype}")
    height, width = rgb.shape[:2]
    header = factory.new("std_msgs/msg/Header", stamp=stamp, frame_id=frame_id)
    return factory.new(
        "sensor_msgs/msg/Image",
        header=header,
        height=height,
        width=width,
        encoding="rgb8",
        is_bigendian=0,
        step=width * 3,
        data=np.ascontiguousarray(rgb).tobytes(),
    )


def _as_uint8(data: Any) -> np.ndarray:
    """The bytes of a uint8[] field: bytes/array.array/numpy (zero-copy) or a list of ints (DDS backend)."""
    if isinstance(data, list):
        return np.array(data, dtype=np.uint8)
    return np.frombuffer(data, dtype=np.uint8)
