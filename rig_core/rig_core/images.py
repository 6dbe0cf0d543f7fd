"""Image I/O and conversion to the model's input: centre-crop to a square, resize with OpenCV."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from rig_core.errors import RigError
from rig_core.files import input_file, write_bytes


def to_model_input(rgb: np.ndarray, size: int) -> np.ndarray:
    """Centre-crop an (H, W, 3) uint8 RGB image to a square and resize it to (size, size, 3)."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or min(rgb.shape[:2]) == 0:
        raise ValueError(f"expected a non-empty (H, W, 3) uint8 image, got {rgb.shape} {rgb.dtype}")
    height, width = rgb.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = rgb[top : top + side, left : left + side]
    if side == size:
        return np.ascontiguousarray(square)
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(square, (size, size), interpolation=interpolation)


def read_rgb(path: Path) -> np.ndarray:
    """Read an image file (any format OpenCV reads; grey and alpha are converted) as uint8 RGB."""
    input_file(path, "goal image")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise RigError(f"goal image {path} is not a readable image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def write_rgb(path: Path, rgb: np.ndarray) -> None:
    """Write a uint8 RGB image (format from the file extension); a file-system problem is an OSError."""
    check_image_format(path)
    ok, data = cv2.imencode(path.suffix, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RigError(f"could not encode image {path}")
    write_bytes(path, data.tobytes())


def check_image_format(path: Path) -> None:
    """RigError unless OpenCV can write an image to `path` (its extension names a format it knows)."""
    if not cv2.haveImageWriter(str(path)):
        raise RigError(f"{path}: no image format for {path.suffix or 'a name without an extension'} (use .png)")
