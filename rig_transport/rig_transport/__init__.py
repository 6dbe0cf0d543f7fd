"""RIG on ROS 2 transport: the interface nodes are written against, with rclpy and Cyclone DDS backends."""

from rig_transport.interface import (
    COMMAND,
    LATCHED,
    REPLAY,
    SENSOR_DATA,
    STATUS,
    Logger,
    MessageFactory,
    ParameterError,
    Publisher,
    QoSProfile,
    Timer,
    Transport,
    make_transport,
)

__all__ = [
    "COMMAND",
    "LATCHED",
    "REPLAY",
    "SENSOR_DATA",
    "STATUS",
    "Logger",
    "MessageFactory",
    "ParameterError",
    "Publisher",
    "QoSProfile",
    "Timer",
    "Transport",
    "make_transport",
]
