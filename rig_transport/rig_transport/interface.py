"""The transport interface RIG nodes are written against; node code never imports rclpy or cyclonedds.

Usage::

    from rig_transport import COMMAND, SENSOR_DATA, make_transport

    transport = make_transport("policy_node", argv=sys.argv)
    params = transport.declare_parameters({"rate_hz": 10.0, "robot_id": "sawyer_1"})
    cmd = transport.create_publisher("/rig/cmd_ee_velocity", "geometry_msgs/msg/TwistStamped", COMMAND)
    transport.create_subscription("/rig/camera/image_raw", "sensor_msgs/msg/Image", SENSOR_DATA, on_image)
    transport.create_timer(1.0 / params["rate_hz"], lambda: cmd.publish(transport.new("geometry_msgs/msg/TwistStamped")))
    try:
        transport.spin()  # until SIGINT/SIGTERM or transport.shutdown()
    finally:
        transport.shutdown()

Messages are built with ``transport.new(type_name, **fields)`` (unspecified fields get ROS defaults) and
read by attribute. Sequence fields accept lists, bytes, ``array.array`` or numpy arrays on construction;
received sequences are sequences (``list`` over DDS, ``array.array`` under rclpy): use ``np.asarray``.
Message constants are attributes of the message's class: ``type(msg).RESET_DONE``.
"""

from __future__ import annotations

import abc
import functools
import importlib.util
import os
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any, Protocol

BACKENDS = ("auto", "rclpy", "dds")


@dataclass(frozen=True)
class QoSProfile:
    """The part of ROS 2 QoS the project uses; history is always keep-last."""

    reliable: bool
    """Reliable delivery (retransmit); False is best effort."""
    depth: int
    """Keep-last history depth, on both the writer and the reader side."""
    transient_local: bool = False
    """Late-joining subscribers get the last ``depth`` messages (latched); False is volatile."""

    def __post_init__(self) -> None:
        if self.depth < 1:
            raise ValueError(f"QoS depth must be >= 1, got {self.depth}")


SENSOR_DATA = QoSProfile(reliable=False, depth=1)
"""Camera frames, poses: newest value only, losing one is fine (best effort, keep last 1, volatile)."""
COMMAND = QoSProfile(reliable=True, depth=1)
"""Velocity commands: delivered, but only the newest matters (reliable, keep last 1)."""
STATUS = QoSProfile(reliable=True, depth=10)
"""Status and event messages (reliable, keep last 10)."""
REPLAY = QoSProfile(reliable=True, depth=1000)
"""Replay transitions: nothing may be dropped while the trainer is busy (reliable, deep queue)."""
LATCHED = QoSProfile(reliable=True, depth=1, transient_local=True)
"""Weights and goal images: late joiners get the last one (reliable, transient local, keep last 1)."""


class ParameterError(ValueError):
    """A parameter default or a user-supplied parameter value has the wrong type or form."""


class Logger(Protocol):
    """The logging.Logger calls node code may use (``%``-style arguments)."""

    def debug(self, msg: str, *args: object) -> None: ...

    def info(self, msg: str, *args: object) -> None: ...

    def warning(self, msg: str, *args: object) -> None: ...

    def error(self, msg: str, *args: object) -> None: ...

    def exception(self, msg: str, *args: object) -> None:
        """Log an error with the traceback of the exception being handled."""


class MessageFactory(Protocol):
    """Anything that builds messages of one backend by ROS type name."""

    def new(self, type_name: str, /, **fields: Any) -> Any: ...


class Publisher(Protocol):
    """A topic publisher; ``publish`` may be called from any thread."""

    def publish(self, msg: Any) -> None: ...

    def get_subscription_count(self) -> int:
        """How many subscriptions are matched now (rclpy's name), so costly messages can be skipped when none is."""


class Timer(Protocol):
    """A periodic timer; ``cancel`` stops it for good."""

    def cancel(self) -> None: ...


class Transport(abc.ABC):
    """One node's connection to the ROS graph: topics, timers, parameters, logging and clock.

    Callbacks (subscriptions and timers) run one at a time on a single executor thread, so node code needs
    no locks between them. An exception raised by a callback is logged with its traceback and the node
    keeps running.
    """

    node_name: str
    logger: Logger

    @abc.abstractmethod
    def create_publisher(self, topic: str, type_name: str, qos: QoSProfile) -> Publisher:
        """Publisher of ``type_name`` (ROS form, e.g. ``"sensor_msgs/msg/Image"``) on ``topic``."""

    @abc.abstractmethod
    def create_subscription(self, topic: str, type_name: str, qos: QoSProfile, callback: Callable[[Any], None]) -> None:
        """Call ``callback(msg)`` for every message received on ``topic`` while spinning."""

    @abc.abstractmethod
    def create_timer(self, period_s: float, callback: Callable[[], None]) -> Timer:
        """Call ``callback()`` every ``period_s`` seconds while spinning."""

    @abc.abstractmethod
    def declare_parameters(self, defaults: dict[str, Any]) -> dict[str, Any]:
        """Declare parameters and return their values (user value if given, else the default).

        Each default's type is the parameter's type: bool, int, float, str, or a non-empty list of one of
        these. A user value of another type raises :class:`ParameterError` (an int is not a float: write 1.0).
        """

    @abc.abstractmethod
    def now(self) -> Any:
        """The current time as a ``builtin_interfaces/msg/Time`` message."""

    @abc.abstractmethod
    def new(self, type_name: str, /, **fields: Any) -> Any:
        """A message of ``type_name``; fields not given get ROS defaults (0, "", empty, nested defaults)."""

    @abc.abstractmethod
    def spin(self) -> None:
        """Run callbacks until :meth:`shutdown`, SIGINT or SIGTERM (then return normally)."""

    @abc.abstractmethod
    def shutdown(self) -> None:
        """Stop spinning and release the middleware; safe to call more than once and from a callback."""


def replace_stop_signal_handlers(handler: Callable[[int, FrameType | None], None]) -> dict[int, Any]:
    """Install ``handler`` for SIGINT and SIGTERM and return the previous handlers (from the main thread only,
    where Python delivers signals; elsewhere nothing changes and the result is empty)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}


def restore_signal_handlers(previous: dict[int, Any]) -> None:
    """Put back (and forget) the handlers `replace_stop_signal_handlers` returned."""
    while previous:
        signum, handler = previous.popitem()
        signal.signal(signum, handler)


def guarded(callback: Callable[..., None], logger: Logger, what: str) -> Callable[..., None]:
    """Wrap a callback so that an exception is logged with its traceback instead of stopping the node."""

    @functools.wraps(callback)
    def run(*args: Any) -> None:
        try:
            callback(*args)
        except Exception:
            logger.exception("%s raised an exception; the node keeps running", what)

    return run


def make_transport(node_name: str, backend: str = "auto", argv: Sequence[str] | None = None) -> Transport:
    """Create the node's transport.

    :param node_name: ROS node name (also selects the ``/<node_name>:`` section of parameter files).
    :param backend: ``"rclpy"``, ``"dds"`` or ``"auto"``: the ``RIG_TRANSPORT`` environment variable if set,
        else rclpy when it is importable, else Cyclone DDS.
    :param argv: command line holding ``--ros-args ...`` (default ``sys.argv``).
    """
    if backend == "auto":
        backend = os.environ.get("RIG_TRANSPORT", "auto")
    if backend not in BACKENDS:
        raise ValueError(f"unknown transport backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    if backend == "rclpy" or (backend == "auto" and importlib.util.find_spec("rclpy") is not None):
        from rig_transport.rclpy_backend import RclpyTransport

        return RclpyTransport(node_name, argv)
    from rig_transport.dds_backend import DDSTransport

    return DDSTransport(node_name, argv)
