"""Helpers of the rig_drivers tests: generated camera media (node processes and DDS peers: rig_transport.testing)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def write_folder(folder: Path, count: int, shape: tuple[int, int] = (60, 80)) -> list[np.ndarray]:
    """``count`` PNGs of seeded noise (RGB), named so that their sorted order is their index."""
    folder.mkdir()
    images = [np.random.default_rng(i).integers(0, 256, (*shape, 3), dtype=np.uint8) for i in range(count)]
    for index, rgb in enumerate(images):
        assert cv2.imwrite(str(folder / f"frame_{index:03d}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return images


def write_video(path: Path, count: int, size: tuple[int, int] = (128, 96)) -> list[np.ndarray]:
    """An MJPG .avi of ``count`` distinct frames; returns them as OpenCV decodes them (RGB)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, size)
    assert writer.isOpened()
    for index in range(count):
        bgr = np.full((size[1], size[0], 3), (20, 60 + 25 * index, 200), np.uint8)
        cv2.rectangle(bgr, (5 + 15 * index, 10), (25 + 15 * index, 40), (255, 255, 255), -1)
        writer.write(bgr)
    writer.release()
    capture, decoded = cv2.VideoCapture(str(path)), []
    while (frame := capture.read())[0]:
        decoded.append(cv2.cvtColor(frame[1], cv2.COLOR_BGR2RGB))
    capture.release()
    assert len(decoded) == count
    return decoded
