"""ROS 1 (rospy) for this project: every ROS 1 import goes through here.

The Sawyer's controller speaks ROS 1 only. rospy is not on PyPI; it comes from Debian's packages
(``apt-get install python3-rospy ...``, Python packages in ``/usr/lib/python3/dist-packages``) or from a ROS Noetic
install (``/opt/ros/noetic/lib/python3/dist-packages``). A virtual environment does not see either, so when rospy is
not importable the locations that exist are appended to ``sys.path`` (after the environment's own packages, which
keep precedence) and the import is tried again.

Usage::

    from rig_sawyer_driver.ros1 import rospy, std_msgs, sensor_msgs   # Ros1Unavailable if ROS 1 is missing
    rospy.init_node("my_node")
    rospy.Publisher("/flag", std_msgs.msg.Bool, queue_size=1)
"""

from __future__ import annotations

import importlib
import os
import sys
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


class Ros1Unavailable(ImportError):
    """rospy (or one of the ROS 1 modules this project uses) cannot be imported."""


def _import_all() -> list[ModuleType]:
    for name in SUBMODULES:
        importlib.import_module(name)
    return [importlib.import_module(name) for name in MODULES]


def import_ros1() -> list[ModuleType]:
    """The modules of :data:`MODULES`, in order; appends :data:`ROS1_PYTHON_PATHS` to sys.path if needed."""
    try:
        return _import_all()
    except ImportError:
        sys.path.extend(path for path in ROS1_PYTHON_PATHS if os.path.isdir(path) and path not in sys.path)
    try:
        return _import_all()
    except ImportError as error:
        raise Ros1Unavailable(
            f"ROS 1 Python modules are missing ({error}); install them with `apt-get install {APT_PACKAGES}` "
            f"(Debian/Ubuntu) or source a ROS Noetic install; looked in sys.path and {', '.join(ROS1_PYTHON_PATHS)}"
        ) from error


rospy, rosgraph, genpy, genmsg, std_msgs, sensor_msgs, geometry_msgs = import_ros1()

__all__ = ["APT_PACKAGES", "Ros1Unavailable", "genmsg", "genpy", "geometry_msgs", "rosgraph", "rospy", "sensor_msgs",
           "std_msgs"]  # fmt: skip
