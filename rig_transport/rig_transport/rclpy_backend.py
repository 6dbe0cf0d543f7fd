"""Transport on rclpy (ROS 2 Humble/Jazzy): a thin mirror of the DDS backend's behaviour.

One ``rclpy`` Node per transport on the default context, spun by a SingleThreadedExecutor so callbacks are
serialised exactly as in the DDS backend. Parameters, remapping and logging come from rcl
(``--ros-args --params-file f.yaml -p name:=value``), so ``ros2 param``, ``ros2 launch`` and
``ros2 topic`` behave as for any rclpy node.
"""

from __future__ import annotations

import array
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

import numpy as np
import rclpy
from rclpy.exceptions import InvalidParameterTypeException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, ReliabilityPolicy
from rclpy.qos import QoSProfile as RclpyQoSProfile
from rclpy.signals import SignalHandlerOptions
from rosidl_runtime_py.utilities import get_message

from rig_transport.interface import (
    ParameterError,
    Publisher,
    QoSProfile,
    Timer,
    Transport,
    guarded,
    replace_stop_signal_handlers,
    restore_signal_handlers,
)
from rig_transport.parameters import check_default

SPIN_PERIOD_S = 0.1
"""spin() checks for a stop request at least this often."""
# Unbounded sequences of these rosidl types are array.array in rclpy messages; numpy arrays and bytes are not
# accepted by the generated setters, so new() converts them (typecodes as rosidl_generator_py uses them).
_ARRAY_TYPECODES = {
    "sequence<uint8>": "B",
    "sequence<int8>": "b",
    "sequence<uint16>": "H",
    "sequence<int16>": "h",
    "sequence<uint32>": "I",
    "sequence<int32>": "i",
    "sequence<uint64>": "Q",
    "sequence<int64>": "q",
    "sequence<float>": "f",
    "sequence<double>": "d",
}


def rclpy_qos(qos: QoSProfile) -> RclpyQoSProfile:
    """The rclpy QoS profile of a transport QoSProfile (keep-last history)."""
    return RclpyQoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=qos.depth,
        reliability=ReliabilityPolicy.RELIABLE if qos.reliable else ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.TRANSIENT_LOCAL if qos.transient_local else DurabilityPolicy.VOLATILE,
    )


class _Logger:
    """logging.Logger-style calls (``%`` arguments, ``exception``) on rclpy's rcutils logger."""

    def __init__(self, logger: Any) -> None:
        self._logger = logger

    def debug(self, msg: str, *args: object) -> None:
        self._logger.debug(msg % args if args else msg)

    def info(self, msg: str, *args: object) -> None:
        self._logger.info(msg % args if args else msg)

    def warning(self, msg: str, *args: object) -> None:
        self._logger.warning(msg % args if args else msg)

    def error(self, msg: str, *args: object) -> None:
        self._logger.error(msg % args if args else msg)

    def exception(self, msg: str, *args: object) -> None:
        self._logger.error(f"{msg % args if args else msg}\n{traceback.format_exc().rstrip()}")


class RclpyTransport(Transport):
    """A node on rclpy (see the module docstring)."""

    def __init__(self, node_name: str, argv: Sequence[str] | None = None) -> None:
        self.node_name = node_name
        if not rclpy.ok():
            # Our own SIGINT/SIGTERM handlers (spin): rclpy's would shut the context down inside spin(), before
            # the node's own clean-up (the trainer's last weights and checkpoint) has run.
            rclpy.init(args=list(sys.argv if argv is None else argv), signal_handler_options=SignalHandlerOptions.NO)
        self._node = Node(node_name)
        self.logger = _Logger(self._node.get_logger())
        self._executor = SingleThreadedExecutor()
        self._executor.add_node(self._node)
        self._stopping = threading.Event()
        self._spin_thread: threading.Thread | None = None
        self._previous_handlers: dict[int, Any] = {}
        self._closed = False

    def create_publisher(self, topic: str, type_name: str, qos: QoSProfile) -> Publisher:
        return self._node.create_publisher(get_message(type_name), topic, rclpy_qos(qos))

    def create_subscription(self, topic: str, type_name: str, qos: QoSProfile, callback: Callable[[Any], None]) -> None:
        wrapped = guarded(callback, self.logger, f"subscription callback for {topic}")
        self._node.create_subscription(get_message(type_name), topic, wrapped, rclpy_qos(qos))

    def create_timer(self, period_s: float, callback: Callable[[], None]) -> Timer:
        return self._node.create_timer(period_s, guarded(callback, self.logger, "timer callback"))

    def declare_parameters(self, defaults: dict[str, Any]) -> dict[str, Any]:
        values = {}
        for name, default in defaults.items():
            check_default(name, default)
            try:
                value = self._node.declare_parameter(name, default).value
            except InvalidParameterTypeException as exc:
                raise ParameterError(str(exc)) from exc
            values[name] = list(value) if isinstance(value, (tuple, array.array)) else value
        return values

    def now(self) -> Any:
        return self._node.get_clock().now().to_msg()

    def new(self, type_name: str, /, **fields: Any) -> Any:
        cls = get_message(type_name)
        field_types = cls.get_fields_and_field_types()
        return cls(**{name: _ros_value(value, field_types.get(name, "")) for name, value in fields.items()})

    def spin(self) -> None:
        self._install_signal_handlers()
        self._spin_thread = threading.current_thread()
        try:
            while not self._stopping.is_set():
                self._executor.spin_once(timeout_sec=SPIN_PERIOD_S)
        except (KeyboardInterrupt, ExternalShutdownException):  # someone else shut the context down
            self.logger.info("shutting down")
        finally:
            self._spin_thread = None

    def shutdown(self) -> None:
        # Called by a callback, this only ends spin(); the node's main calls it again after its own clean-up.
        self._stopping.set()
        if self._spin_thread is threading.current_thread() or self._closed:
            return
        self._closed = True
        self._executor.shutdown()
        self._node.destroy_node()
        rclpy.try_shutdown()
        restore_signal_handlers(self._previous_handlers)

    def _install_signal_handlers(self) -> None:
        """SIGINT/SIGTERM end spin(). They stay gentle until shutdown() is done: on Ctrl-C a node gets SIGINT from
        the terminal and again from ros2 launch, which sends SIGKILL to a node that does not stop in time."""
        if self._previous_handlers:
            return

        def stop(signum: int, _frame: FrameType | None) -> None:
            if not self._stopping.is_set():
                self.logger.info("%s received, shutting down", signal.Signals(signum).name)
            self._stopping.set()

        self._previous_handlers = replace_stop_signal_handlers(stop)


def _ros_value(value: Any, field_type: str) -> Any:
    """Numpy arrays and bytes for unbounded numeric sequences become the array.array rclpy stores."""
    typecode = _ARRAY_TYPECODES.get(field_type)
    if typecode is None or not isinstance(value, (bytes, bytearray, memoryview, np.ndarray)):
        return value
    values = np.asarray(value) if isinstance(value, np.ndarray) else np.frombuffer(value, np.uint8)
    return array.array(typecode, values.astype(np.dtype(typecode), copy=False).tobytes())
