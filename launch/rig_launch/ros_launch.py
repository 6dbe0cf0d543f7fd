"""`ros2 launch` descriptions of the node graphs in `rig_launch.graph` (imported on ROS 2 machines only).

Every node gets the same parameter file (``params_file:=``, default: the installed ``config/rig_params.yaml``),
the graph's parameters over it (`rig_launch.graph.graph_parameters`, with ``robot_id:=`` and, for graphs with
the Intera driver, ``robot_host:=``) and the log level (``log_level:=``), exactly as `rig up` starts them
without ROS 2. ``record:=true`` records every RIG topic with ``ros2 bag record -s mcap`` (into ``record_dir:=``,
default rosbag2's timestamped directory), as `rig up --record DIR` does with `rig record`.
"""

from __future__ import annotations

from typing import Any

from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, LogInfo, OpaqueFunction, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from rig_launch.graph import GRAPHS, SAWYER_DRIVER, graph_parameters, ros1_master_uri, speaks_ros1
from rig_launch.topics import ros2_bag_record_command


def _nodes(context: LaunchContext, graph_name: str) -> list[Any]:
    """The graph's Node actions, with the launch arguments' values (OpaqueFunction: they are known only here)."""
    graph = GRAPHS[graph_name]
    robot_host = LaunchConfiguration("robot_host").perform(context) if graph.has(SAWYER_DRIVER.name) else None
    parameters = graph_parameters(graph, LaunchConfiguration("robot_id").perform(context) or None, robot_host or None)
    actions: list[Any] = []
    if (uri := ros1_master_uri(parameters)) is not None:
        actions.append(SetEnvironmentVariable("ROS_MASTER_URI", uri))  # the camera's ros1: source too
    for spec in graph.nodes:
        # Strings stay strings: launch_ros would read "1" as an integer.
        typed = {name: ParameterValue(value, value_type=str) if isinstance(value, str) else value
                 for name, value in parameters[spec.name].items()}  # fmt: skip
        # namespace="/": with a fully qualified node name launch_ros writes ``typed`` under /<name>, not /**; rcl
        # applies a file's /** before its node's own section, so /** values would lose to the file's policy_node:
        # (the robot_id the graph sets would not reach an rclpy node). The DDS backend takes -r __ns:=/ too.
        actions.append(Node(package=spec.package, executable=spec.executable, name=spec.name, namespace="/",
                            parameters=[LaunchConfiguration("params_file"), typed],
                            # --enclave: each node its own SROS2 enclave (`rig keys`); used only with ROS_SECURITY_*
                            arguments=["--ros-args", "--log-level", LaunchConfiguration("log_level"),
                                       "--enclave", f"/{spec.name}"],
                            additional_env={"RIG_TRANSPORT": "dds"} if speaks_ros1(spec, parameters[spec.name]) else None,
                            output="screen", emulate_tty=True))  # fmt: skip
    if LaunchConfiguration("record").perform(context).strip().lower() in ("true", "1", "yes"):
        actions.append(ExecuteProcess(cmd=ros2_bag_record_command(LaunchConfiguration("record_dir").perform(context)),
                                      name="recorder", output="screen"))  # fmt: skip
    return actions


def graph_launch_description(graph_name: str, note: str) -> LaunchDescription:
    """The launch description of ``GRAPHS[graph_name]``; ``note`` is logged once at start (what runs)."""
    graph = GRAPHS[graph_name]
    arguments = [
        DeclareLaunchArgument(
            "params_file",
            default_value=PathJoinSubstitution([FindPackageShare("rig"), "config", "rig_params.yaml"]),
            description="ROS 2 parameter file for every RIG node (sections per node name)",
        ),
        DeclareLaunchArgument("log_level", default_value="info", description="debug, info, warn, error or fatal"),
        DeclareLaunchArgument("robot_id", default_value=graph.robot_id or "",
                              description="robot id of the policy and the robot driver (empty: the parameter file's)"),
        DeclareLaunchArgument("record", default_value="false",
                              description="true: record every RIG topic (ros2 bag record -s mcap) while the graph runs"),
        DeclareLaunchArgument("record_dir", default_value="",
                              description="the new bag directory of record:=true (empty: rosbag2_<date>-<time>)"),
    ]  # fmt: skip
    if graph.has(SAWYER_DRIVER.name):
        arguments.append(DeclareLaunchArgument(
            "robot_host", default_value=graph.default_robot_host or "",
            description="HOST[:PORT] of the robot's ROS 1 master, http://HOST:11311 (empty: the parameter file's "
                        "sawyer_driver.ros_master_uri, or ROS_MASTER_URI)"))  # fmt: skip
    return LaunchDescription([*arguments, LogInfo(msg=note), OpaqueFunction(function=_nodes, args=[graph_name])])
