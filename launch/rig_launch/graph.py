"""The node graphs, one description shared by the ROS launch files and by `rig up` (so the two never differ).

Every node reads its parameters from one ROS 2 parameter file (`config/rig_params.yaml` by default): the
rclpy backend through rcl, the DDS backend through `rig_transport.parameters`, with the same sections. A graph
may set a few parameters over that file (`Graph.parameters`, then `graph_parameters`): the robot's id on the
policy and the driver alike, so the two always agree, and what a graph needs that the others must not get
(Gazebo's camera topic, the ROS 1 master of the robot). `rig up --set` and `ros2 launch` arguments come last.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PARAMS_FILE = Path(__file__).parent / "config" / "rig_params.yaml"
ROS1_MASTER_PORT = 11311
"""Where a ROS 1 master listens unless told otherwise (the Sawyer's own, and sawyer_simulator's)."""
GAZEBO_HEAD_CAMERA = "/io/internal_camera/head_camera/image_raw"
"""sawyer_simulator's head camera (sawyer_description's gazebo_ros_camera plugin: 1280x800 rgb8, 10 Hz)."""
GAZEBO_NEUTRAL = (0.0, -1.18, 0.0, 2.18, 0.0, 0.57, round(3.3161 - 2 * math.pi, 4))
"""Intera's neutral pose with right_j6 a full turn back (the same hand pose): sawyer_simulator's URDF
(``gazebo:=true``) limits right_j6 to ±3.14 rad, so the robot's 3.3161 is out of reach there."""


@dataclass(frozen=True)
class NodeSpec:
    """One node: its ROS package, console script (executable) and node name (its parameter file section)."""

    package: str
    executable: str
    name: str


@dataclass(frozen=True)
class Graph:
    """The nodes of a graph, and what it sets over the parameter file."""

    nodes: tuple[NodeSpec, ...]
    summary: str
    robot_id: str | None = None
    """Set as ``robot_id`` on the policy and the robot driver (None: the parameter file's, for every node)."""
    default_robot_host: str | None = None
    """The robot's ROS 1 master host (None: the driver's ``ros_master_uri`` parameter, "" = the environment's)."""
    parameters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Further parameters per node name, typed as in the parameter file."""

    def has(self, node_name: str) -> bool:
        return any(spec.name == node_name for spec in self.nodes)


SIM_SAWYER = NodeSpec("rig_drivers", "rig_sim_sawyer_node", "sim_sawyer_node")
CAMERA = NodeSpec("rig_drivers", "rig_camera_node", "camera_node")
POLICY = NodeSpec("rig_policy_node", "rig_policy_node", "policy_node")
TRAINER = NodeSpec("rig_trainer_node", "rig_trainer_node", "trainer_node")
SAWYER_DRIVER = NodeSpec("rig_sawyer_driver", "rig_sawyer_driver", "sawyer_driver")
ROBOT_DRIVERS = (SIM_SAWYER.name, SAWYER_DRIVER.name)
"""Nodes that move a robot and answer its resets: the ones whose ``robot_id`` the policy must share."""

GRAPHS: dict[str, Graph] = {
    # The MuJoCo Sawyer renders /rig/camera/image_raw itself, takes /rig/cmd_ee_velocity and answers resets.
    "sim": Graph((SIM_SAWYER, POLICY, TRAINER), "MuJoCo Sawyer + policy + trainer"),
    # A USB camera and the Intera driver, talking to the robot's own ROS 1 master.
    "real": Graph((CAMERA, POLICY, TRAINER, SAWYER_DRIVER), "camera + policy + trainer + Intera driver (real Sawyer)",
                  robot_id="sawyer"),  # fmt: skip
    # The same driver on sawyer_simulator's master; the camera node takes Gazebo's head camera over ROS 1.
    "gazebo": Graph(
        (CAMERA, POLICY, TRAINER, SAWYER_DRIVER), "the real graph on Gazebo's sawyer_simulator (camera over ROS 1)",
        robot_id="sawyer_gazebo", default_robot_host="localhost",
        parameters={CAMERA.name: {"source": f"ros1:{GAZEBO_HEAD_CAMERA}"},
                    SAWYER_DRIVER.name: {"control.home": list(GAZEBO_NEUTRAL),
                                         "control.comfort_posture": list(GAZEBO_NEUTRAL)}},
    ),  # fmt: skip
}


def master_uri(robot_host: str) -> str:
    """The ROS 1 master URI of a robot host name or address, ``HOST`` or ``HOST:PORT`` (default port 11311)."""
    host, _, port = robot_host.partition(":")
    if not host or "/" in robot_host or not (port == "" or (port.isdigit() and 0 < int(port) < 65536)):
        raise ValueError(f"robot host {robot_host!r} is not a host name or address, optionally with :PORT")
    return f"http://{host}:{port or ROS1_MASTER_PORT}"


def graph_parameters(graph: Graph, robot_id: str | None = None, robot_host: str | None = None
                     ) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Per node name: what the graph sets over the parameter file, with ``robot_id`` and ``robot_host`` (or the
    graph's defaults) applied; ValueError for a bad host, or a host for a graph without the Intera driver."""
    result: dict[str, dict[str, Any]] = {spec.name: dict(graph.parameters.get(spec.name, {})) for spec in graph.nodes}
    robot_id = robot_id or graph.robot_id
    if robot_id:
        for name in (POLICY.name, *ROBOT_DRIVERS):
            if name in result:
                result[name]["robot_id"] = robot_id
    host = robot_host or graph.default_robot_host
    if host:
        if not graph.has(SAWYER_DRIVER.name):
            raise ValueError("this graph has no Intera driver to point at a robot host")
        result[SAWYER_DRIVER.name]["ros_master_uri"] = master_uri(host)
    return result


def speaks_ros1(spec: NodeSpec, parameters: Mapping[str, Any]) -> bool:
    """Whether a node has a ROS 1 side (the Intera driver; a camera on a ``ros1:`` topic). Such a node runs on the
    DDS backend under ``ros2 launch`` too: ROS 1's and ROS 2's message packages share their Python names, and one
    process cannot hold both (`rig_sawyer_driver.ros1`)."""
    return spec.name == SAWYER_DRIVER.name or str(parameters.get("source", "")).startswith("ros1:")


def ros1_master_uri(parameters: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The master URI the graph's parameters give the driver: every ROS 1 client of the graph (the driver, a camera
    on ``ros1:`` topics) gets it as ROS_MASTER_URI; None when the environment's applies."""
    return parameters.get(SAWYER_DRIVER.name, {}).get("ros_master_uri")
