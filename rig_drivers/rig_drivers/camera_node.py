"""The camera node: frames from a device, video file or image folder, cropped and resized, on /rig/camera/image_raw."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from rig_core.images import to_model_input
from rig_drivers.frame_sources import FrameSource, SourceError, open_source
from rig_transport import SENSOR_DATA, Logger, Publisher, Transport, make_transport
from rig_transport.images import rgb_to_image

NODE_NAME = "camera_node"
IMAGE_TOPIC = "/rig/camera/image_raw"
DEFAULTS: dict[str, Any] = {"source": "0", "rate_hz": 10.0, "image_size": 84, "frame_id": "rig_camera"}
EXIT_BAD_PARAMETERS = 1
EXIT_BAD_SOURCE = 2


class CameraPublisher:
    """Reads one frame per tick and publishes it at the model's size; a failed read is logged, never fatal."""

    def __init__(self, source: FrameSource, image_size: int, logger: Logger) -> None:
        self.source, self.image_size, self.log = source, image_size, logger
        self.failing = False

    def next_frame(self) -> np.ndarray | None:
        """The next frame as (image_size, image_size, 3) uint8 RGB, or None when the read failed."""
        rgb = self.source.read()
        if rgb is None:
            if not self.failing:  # once per failure streak, not at the frame rate
                self.log.warning("no frame from %s; retrying every tick", self.source.description)
            self.failing = True
            return None
        if self.failing:
            self.log.info("frames from %s again", self.source.description)
            self.failing = False
        return to_model_input(rgb, self.image_size)


def run(transport: Transport) -> int:
    """Declare parameters, open the source and publish until shut down; returns the exit code."""
    params = transport.declare_parameters(DEFAULTS)
    rate_hz, image_size = float(params["rate_hz"]), int(params["image_size"])
    if rate_hz <= 0 or image_size <= 0:
        transport.logger.error("rate_hz and image_size must be > 0, got %s and %s", rate_hz, image_size)
        return EXIT_BAD_PARAMETERS
    try:
        source = open_source(str(params["source"]))
    except SourceError as error:
        transport.logger.error("%s", error)
        return EXIT_BAD_SOURCE
    camera = CameraPublisher(source, image_size, transport.logger)
    images: Publisher = transport.create_publisher(IMAGE_TOPIC, "sensor_msgs/msg/Image", SENSOR_DATA)

    def tick() -> None:
        frame = camera.next_frame()
        if frame is not None:
            images.publish(rgb_to_image(transport, frame, transport.now(), str(params["frame_id"])))

    transport.create_timer(1.0 / rate_hz, tick)
    transport.logger.info("publishing %s as %dx%d rgb8 on %s at %.1f Hz", source.description, image_size, image_size,
                          IMAGE_TOPIC, rate_hz)  # fmt: skip
    try:
        transport.spin()
    finally:
        source.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Console script ``rig_camera_node [--ros-args -p source:=... ...]``: 0 after SIGINT/SIGTERM, 2 for a bad source."""
    try:
        transport = make_transport(NODE_NAME, argv=sys.argv if argv is None else argv)
    except ValueError as error:  # a malformed --ros-args section
        print(f"{NODE_NAME}: {error}", file=sys.stderr)
        return EXIT_BAD_PARAMETERS
    try:
        return run(transport)
    except ValueError as error:  # a parameter of the wrong type
        transport.logger.error("%s", error)
        return EXIT_BAD_PARAMETERS
    finally:
        transport.shutdown()


if __name__ == "__main__":
    sys.exit(main())
