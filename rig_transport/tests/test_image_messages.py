"""sensor_msgs/Image <-> RGB numpy: every encoding, row padding, and each malformed image rejected clearly."""

from __future__ import annotations

import array

import cv2
import numpy as np
import pytest

from rig_transport.dds_types import default_types
from rig_transport.images import image_to_rgb, rgb_to_image

RGB = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)
STAMP = default_types().new("builtin_interfaces/msg/Time", sec=12, nanosec=34)


def image(encoding: str, pixels: np.ndarray, pad: int = 0, data=None):
    """An Image of ``pixels`` (H, W[, C]) with ``pad`` bytes of padding after each row."""
    height, width = pixels.shape[:2]
    rows = pixels.reshape(height, -1)
    padded = np.concatenate([rows, np.full((height, pad), 0xEE, np.uint8)], axis=1)
    return default_types().new(
        "sensor_msgs/msg/Image", height=height, width=width, encoding=encoding, step=rows.shape[1] + pad,
        data=padded.tobytes() if data is None else data,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("encoding", "to_encoding"),
    [
        ("rgb8", None),
        ("bgr8", cv2.COLOR_RGB2BGR),
        ("rgba8", cv2.COLOR_RGB2RGBA),
        ("bgra8", cv2.COLOR_RGB2BGRA),
    ],
)
@pytest.mark.parametrize("pad", [0, 3])
def test_colour_encodings_round_trip(encoding, to_encoding, pad):
    pixels = RGB if to_encoding is None else cv2.cvtColor(RGB, to_encoding)
    assert np.array_equal(image_to_rgb(image(encoding, pixels, pad)), RGB)


@pytest.mark.parametrize("pad", [0, 3])
def test_mono8_becomes_grey_rgb(pad):
    grey = cv2.cvtColor(RGB, cv2.COLOR_RGB2GRAY)
    rgb = image_to_rgb(image("mono8", grey, pad))
    assert rgb.shape == (6, 5, 3) and all(np.array_equal(rgb[..., c], grey) for c in range(3))


def test_data_may_be_a_list_or_array_as_received_from_either_backend():
    raw = image("rgb8", RGB).data
    for data in (list(raw), array.array("B", raw), np.frombuffer(raw, np.uint8)):
        assert np.array_equal(image_to_rgb(image("rgb8", RGB, data=data)), RGB)


def test_result_is_a_writable_copy():
    msg = image("rgb8", RGB)
    rgb = image_to_rgb(msg)
    rgb[:] = 0
    assert np.array_equal(image_to_rgb(msg), RGB)


def test_rgb_to_image_round_trip():
    msg = rgb_to_image(default_types(), RGB, STAMP, "rig_camera")
    assert (msg.height, msg.width, msg.encoding, msg.step, msg.is_bigendian) == (6, 5, "rgb8", 15, 0)
    assert (msg.header.frame_id, msg.header.stamp.sec, msg.header.stamp.nanosec) == ("rig_camera", 12, 34)
    assert np.array_equal(image_to_rgb(msg), RGB)
    received = type(msg).deserialize(msg.serialize())  # as a DDS subscriber gets it: data is a list
    assert np.array_equal(image_to_rgb(received), RGB)


def test_rgb_to_image_accepts_non_contiguous_arrays():
    assert np.array_equal(image_to_rgb(rgb_to_image(default_types(), RGB[:, ::-1], STAMP, "cam")), RGB[:, ::-1])


@pytest.mark.parametrize("bad", [RGB[..., 0], RGB.astype(np.float32), RGB[:, :, :2], RGB[:0]])
def test_rgb_to_image_rejects_other_arrays(bad):
    with pytest.raises(ValueError, match=r"expected a non-empty \(H, W, 3\) uint8 RGB array"):
        rgb_to_image(default_types(), bad, STAMP, "cam")


def test_rejections_name_the_problem():
    good = image("rgb8", RGB)
    cases = {
        "unsupported image encoding 'mono16'": dict(encoding="mono16"),
        "unsupported image encoding '8UC3'": dict(encoding="8UC3"),
        "empty image: 0x6": dict(width=0),
        "empty image: 5x0": dict(height=0, data=b""),
        "step 14 is shorter than a row of 5 rgb8 pixels": dict(step=14),
        "image data has 89 bytes, expected height \\* step = 6 \\* 15 = 90": dict(data=bytes(good.data)[:-1]),
        "image data has 91 bytes": dict(data=bytes(good.data) + b"\x00"),
    }
    for message, changes in cases.items():
        fields = {name: getattr(good, name) for name in ("height", "width", "encoding", "step", "data")} | changes
        with pytest.raises(ValueError, match=message):
            image_to_rgb(default_types().new("sensor_msgs/msg/Image", **fields))


def test_big_endian_flag_does_not_matter_for_8_bit_encodings():
    msg = image("bgr8", cv2.cvtColor(RGB, cv2.COLOR_RGB2BGR))
    msg.is_bigendian = 1
    assert np.array_equal(image_to_rgb(msg), RGB)
