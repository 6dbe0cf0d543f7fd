"""ROS 1 (rospy) for this project: every ROS 1 import goes through here.

The Sawyer's controller speaks ROS 1 only. rospy is not on PyPI; it comes from Debian's packages
(``apt-get install python3-rospy ...``, Python packages in ``/usr/lib/python3/dist-packages``) or from a ROS Noetic
install (``/opt/ros/noetic/lib/python3/dist-packages``). A virtual environment does not see either, so when rospy is
not importable the locations that exist are appended to ``sys.path`` (after the environment's own packages, which
keep precedence) and the import is tried again.

ROS 1 and ROS 2 both install message packages under the same Python names (std_msgs, sensor_msgs, geometry_msgs,
rosgraph_msgs). Where a sourced ROS 2 environment puts its own first on the path, the ROS 1 ones are imported from
rospy's location anyway (that location first on sys.path while they are imported, then the path as it was). A process
that has already imported the ROS 2 ones (rclpy) cannot hold both: that is a clear error, and such a node runs on the
DDS backend (``RIG_TRANSPORT=dds``), which speaks ROS 2 without importing ROS 2's Python packages.

rospy's own logger (``rospy``: its internal notices, e.g.
"topicmanager initialized" at import) is set to WARNING first, unless the process set it already; what nodes log
with ``rospy.loginfo`` (logger ``rosout``) is not affected.

Usage::

    from rig_sawyer_driver.ros1 import rospy, std_msgs, sensor_msgs   # Ros1Unavailable if ROS 1 is missing
    rospy.init_node("my_node")                # a plain ROS 1 node; in a ROS 2 node's process: ros1.init_node(...)
    rospy.Publisher("/flag", std_msgs.msg.Bool, queue_size=1)
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
from pathlib import Path
from types import ModuleType

ROS1_PYTHON_PATHS = ("/usr/lib/python3/dist-packages", "/opt/ros/noetic/lib/python3/dist-packages")
"""Where Debian's ROS 1 packages and a ROS Noetic install keep their Python modules."""
APT_PACKAGES = (
    "python3-rospy python3-rosmaster python3-rosgraph python3-genpy python3-genmsg "
    "python3-std-msgs python3-sensor-msgs python3-geometry-msgs"
)
"""The Debian packages that provide everything imported here (and the `rosmaster` command)."""
MODULES = ("rospy", "rosgraph", "genpy", "genmsg", "std_msgs", "sensor_msgs", "geometry_msgs")
SUBMODULES = ("genpy.generator", "genmsg.msg_loader", "std_msgs.msg", "sensor_msgs.msg", "geometry_msgs.msg")
"""Imported too, so that they are attributes of the modules above (``std_msgs.msg.Bool``)."""


class Ros1Unavailable(ModuleNotFoundError):
    """rospy (or one of the ROS 1 modules this project uses) cannot be imported.

    A ModuleNotFoundError, so that ``pytest.importorskip("rig_sawyer_driver.ros1")`` skips (pytest 9 skips on
    nothing else by default)."""


SHARED_NAMES = ("std_msgs", "sensor_msgs", "geometry_msgs", "rosgraph_msgs")
"""Python packages that ROS 1 and ROS 2 both install under these names (rospy itself imports rosgraph_msgs)."""


def _located_in(name: str, directory: Path) -> bool:
    spec = importlib.util.find_spec(name)
    return spec is not None and spec.origin is not None and Path(spec.origin).resolve().is_relative_to(directory)


def _import_all() -> list[ModuleType]:
    rospy_spec = importlib.util.find_spec("rospy")
    if rospy_spec is None or rospy_spec.origin is None:
        raise ModuleNotFoundError("No module named 'rospy'", name="rospy")
    ros1_dir = Path(rospy_spec.origin).resolve().parent.parent
    shadowed = [name for name in SHARED_NAMES if not _located_in(name, ros1_dir)]
    if taken := [name for name in shadowed if name in sys.modules]:
        raise Ros1Unavailable(
            f"this process already uses ROS 2's {', '.join(taken)}, which ROS 1's share their names with: a node "
            "that speaks ROS 1 runs on the DDS backend (RIG_TRANSPORT=dds), not rclpy")
    saved = list(sys.path)
    if shadowed:  # a ROS 2 environment's packages come first: ROS 1's location wins for this import
        for name in ("numpy", "yaml"):  # ... but not for these, which the environment has (and ROS 1 uses)
            importlib.import_module(name)
        sys.path.insert(0, str(ros1_dir))
    try:
        for name in SUBMODULES:
            importlib.import_module(name)
        return [importlib.import_module(name) for name in MODULES]
    finally:
        sys.path[:] = saved


def import_ros1() -> list[ModuleType]:
    """The modules of :data:`MODULES`, in order; appends :data:`ROS1_PYTHON_PATHS` to sys.path if needed."""
    internal = logging.getLogger("rospy")
    if internal.level == logging.NOTSET:
        internal.setLevel(logging.WARNING)
    try:
        return _import_all()
    except Ros1Unavailable:
        raise
    except ImportError:
        sys.path.extend(path for path in ROS1_PYTHON_PATHS if os.path.isdir(path) and path not in sys.path)
    try:
        return _import_all()
    except Ros1Unavailable:
        raise
    except ImportError as error:
        raise Ros1Unavailable(
            f"ROS 1 Python modules are missing ({error}); install them with `apt-get install {APT_PACKAGES}` "
            f"(Debian/Ubuntu) or source a ROS Noetic install; looked in sys.path and {', '.join(ROS1_PYTHON_PATHS)}"
        ) from error


rospy, rosgraph, genpy, genmsg, std_msgs, sensor_msgs, geometry_msgs = import_ros1()

LOGGING_CONFIG = Path(__file__).resolve().parent / "ros1_logging.yaml"
"""A logging configuration that configures nothing (rospy's would replace the root logger's handlers by a file)."""


def init_node(name: str, *, anonymous: bool = False) -> None:
    """``rospy.init_node`` for a process that is a ROS 2 node too (or has its own logging and signal handling).

    No signal handlers (the ROS 2 side owns SIGINT/SIGTERM; call ``rospy.signal_shutdown`` when done), no ROS 1
    command-line parsing (the arguments are ROS 2's ``--ros-args``), and Python logging left as the process set it
    up: rospy's own configuration would send the root logger to a file only, silencing the node's console log;
    rospy's messages (``rospy.loginfo``, ...) go through the process's handlers instead. ROS_PYTHON_LOG_CONFIG_FILE,
    when set, is honoured.
    """
    preset = os.environ.get("ROS_PYTHON_LOG_CONFIG_FILE")
    os.environ["ROS_PYTHON_LOG_CONFIG_FILE"] = preset or str(LOGGING_CONFIG)
    try:
        rospy.init_node(name, argv=sys.argv[:1], anonymous=anonymous, disable_signals=True)
    finally:
        if preset is None:
            del os.environ["ROS_PYTHON_LOG_CONFIG_FILE"]


__all__ = ["APT_PACKAGES", "Ros1Unavailable", "genmsg", "genpy", "geometry_msgs", "init_node", "rosgraph", "rospy",
           "sensor_msgs", "std_msgs"]  # fmt: skip
