"""`ros2 launch` descriptions of the node graphs in `rig_launch.graph` (imported on ROS 2 machines only).

Every node gets the same parameter file (``params_file:=``, default: the installed ``config/rig_params.yaml``)
and log level (``log_level:=``), exactly as `rig up` starts them without ROS.
"""

from __future__ import annotations

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, LogInfo
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from rig_launch.graph import GRAPHS


def graph_launch_description(graph: str, note: str) -> LaunchDescription:
    """The launch description of ``GRAPHS[graph]``; ``note`` is logged once at start (what runs, what joins later)."""
    params_file = LaunchConfiguration("params_file")
    log_level = LaunchConfiguration("log_level")
    actions = [
        DeclareLaunchArgument(
            "params_file",
            default_value=PathJoinSubstitution([FindPackageShare("rig"), "config", "rig_params.yaml"]),
            description="ROS 2 parameter file for every RIG node (sections per node name)",
        ),
        DeclareLaunchArgument("log_level", default_value="info", description="debug, info, warn, error or fatal"),
        LogInfo(msg=note),
    ]
    for spec in GRAPHS[graph]:
        actions.append(
            Node(
                package=spec.package,
                executable=spec.executable,
                name=spec.name,
                parameters=[params_file],
                arguments=["--ros-args", "--log-level", log_level],
                output="screen",
                emulate_tty=True,
            )
        )
    return LaunchDescription(actions)
