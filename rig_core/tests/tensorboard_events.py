"""Reading a run's TensorBoard event files back with TensorBoard's own reader (its EventAccumulator)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rig_core.tensorboard_log import TENSORBOARD_DIR


def read_events(out: Path) -> EventAccumulator:
    """Every event file of ``out/tensorboard``, as TensorBoard loads them (purges applied)."""
    events = EventAccumulator(str(out / TENSORBOARD_DIR), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    return events


def scalar_series(events: EventAccumulator, tag: str) -> list[tuple[int, float]]:
    return [(event.step, event.value) for event in events.Scalars(tag)]


def images(events: EventAccumulator, tag: str) -> list[tuple[int, np.ndarray]]:
    """(step, RGB image) of each logged image of ``tag``."""
    logged = events.Images(tag)
    decoded = [cv2.imdecode(np.frombuffer(event.encoded_image_string, np.uint8), cv2.IMREAD_COLOR) for event in logged]
    return [(event.step, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)) for event, bgr in zip(logged, decoded)]
