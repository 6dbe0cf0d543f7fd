"""Live model images for watching a run: the goal as the model sees it, the VAE's reconstruction of the newest
camera frame, and a strip (frame | reconstruction | goal) that reads at a glance.

They are made at a low rate right after a tick's command is out, and only for topics with a subscriber: nobody
watching costs a matched-count query per topic and tick, and the VAE decode is skipped.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from rig_policy_node.controller import PolicyController
from rig_transport import COMMAND, Publisher, Transport
from rig_transport.images import rgb_to_image

GOAL_TOPIC = "/rig/policy/goal_image_model"
RECONSTRUCTION_TOPIC = "/rig/policy/reconstruction"
STRIP_TOPIC = "/rig/policy/strip"
TOPICS = (GOAL_TOPIC, RECONSTRUCTION_TOPIC, STRIP_TOPIC)
VIEWING_QOS = COMMAND
"""Reliable, keep last 1: best-effort and reliable viewers both match it, and keep-last 1 never blocks a write."""
VIEW_SCALE = 3
"""Each strip panel is the model image with every pixel VIEW_SCALE x VIEW_SCALE (nearest neighbour)."""
LABEL_HEIGHT = 20
"""Height of the band above the panels that holds their labels."""
GAP = 4
"""Columns between two panels."""
_BACKGROUND, _MISSING, _TEXT = 32, 96, (255, 255, 255)


def upscale(image: np.ndarray) -> np.ndarray:
    """``image`` with every pixel VIEW_SCALE x VIEW_SCALE."""
    return cv2.resize(image, None, fx=VIEW_SCALE, fy=VIEW_SCALE, interpolation=cv2.INTER_NEAREST)


def panel_origin(index: int, size: int) -> tuple[int, int]:
    """(row, column) of the top-left pixel of strip panel ``index`` for model images of ``size``."""
    return LABEL_HEIGHT, index * (size * VIEW_SCALE + GAP)


def strip_image(panels: Sequence[tuple[str, np.ndarray | None]], size: int) -> np.ndarray:
    """Labelled (label, image) panels side by side, each upscaled; a missing image is a grey panel saying so."""
    side = size * VIEW_SCALE
    strip = np.full((LABEL_HEIGHT + side, len(panels) * (side + GAP) - GAP, 3), _BACKGROUND, np.uint8)
    for index, (label, image) in enumerate(panels):
        row, column = panel_origin(index, size)
        area = strip[row:, column : column + side]
        if image is None:
            area[:] = _MISSING
            cv2.putText(area, "none yet", (6, side // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.45, _TEXT, 1, cv2.LINE_AA)
        else:
            area[:] = upscale(image)
        cv2.putText(strip, label, (column + 4, LABEL_HEIGHT - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.45, _TEXT, 1, cv2.LINE_AA)
    return strip


class ModelImages:
    """Publishers of the model images of one policy, at most ``rate_hz`` times a second."""

    def __init__(self, transport: Transport, controller: PolicyController, rate_hz: float) -> None:
        if rate_hz <= 0:
            raise ValueError(f"model_images_rate_hz must be >= 0 (0 = off), got {rate_hz}")
        self.transport, self.controller, self.period_s = transport, controller, 1.0 / rate_hz
        self._publishers: dict[str, Publisher] = {
            topic: transport.create_publisher(topic, "sensor_msgs/msg/Image", VIEWING_QOS) for topic in TOPICS
        }
        self._due = time.monotonic()

    def watched(self) -> list[str]:
        """The image topics with a matched subscriber now."""
        return [topic for topic, publisher in self._publishers.items() if publisher.get_subscription_count() > 0]

    def publish_if_due(self, stamp: Any, frame_id: str) -> list[str]:
        """Publish the images somebody subscribes to, of the newest frame (``stamp`` and ``frame_id`` are its own),
        if a period has passed; returns the topics published."""
        now = time.monotonic()
        frame = self.controller.frame
        if now < self._due or frame is None:
            return []
        wanted = self.watched()
        if not wanted:
            return []  # asked again next tick: a new viewer gets its first images at once
        self._due = now + self.period_s
        controller = self.controller
        agent, reconstruction = controller.agent, None
        if agent is not None and controller.decodes and (RECONSTRUCTION_TOPIC in wanted or STRIP_TOPIC in wanted):
            reconstruction = agent.reconstruct(frame[None])[0]
        goal = controller.goal_image() if GOAL_TOPIC in wanted or STRIP_TOPIC in wanted else None
        strip = None
        if STRIP_TOPIC in wanted:
            goal_label = "goal (operator)" if controller.operator_goal is not None else "goal (imagined)"
            panels = [("camera frame", frame), ("reconstruction", reconstruction), (goal_label, goal)]
            strip = strip_image(panels, frame.shape[0])
        images = {GOAL_TOPIC: goal, RECONSTRUCTION_TOPIC: reconstruction, STRIP_TOPIC: strip}
        published = []
        for topic in wanted:
            image = images[topic]
            if image is not None:
                self._publishers[topic].publish(rgb_to_image(self.transport, image, stamp, frame_id))
                published.append(topic)
        return published
