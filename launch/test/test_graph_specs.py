"""The graphs as `rig up` would start them (`rig up GRAPH --dry-run`, nothing started): each node's command line is
resolved exactly as the node resolves it (`rig_transport.parameters`), then checked against what that node declares.
Every graph: only declared parameters, of the declared types, and the policy shares its robot's id; the Intera driver's
parameters build its controller (home inside the box). The real and gazebo graphs point the driver at the robot's
ROS 1 master; gazebo takes Gazebo's head camera and a home within sawyer_simulator's joint limits."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from rig_drivers import camera_node, sim_sawyer_node
from rig_drivers.arm_controller import ArmController, ControllerConfig
from rig_drivers.safety import EnvelopeConfig
from rig_drivers.sawyer_kinematics import SAWYER_LIMITS, SawyerKinematics
from rig_policy_node import node as policy_node
from rig_sawyer_driver import node as sawyer_driver
from rig_trainer_node import node as trainer_node

from rig_launch.graph import (
    DEFAULT_PARAMS_FILE,
    GAZEBO_HEAD_CAMERA,
    GRAPHS,
    ROBOT_DRIVERS,
    SAWYER_DRIVER,
    graph_parameters,
    speaks_ros1,
)  # fmt: skip
from rig_transport.parameters import load_parameter_file, parse_ros_args, resolve_parameters, user_values
from rig_transport.scripts import installed_script

RIG = installed_script("rig")
DRIVER_DEFAULTS = (sawyer_driver.DEFAULTS | sawyer_driver.config_parameters(EnvelopeConfig, "envelope")
                   | sawyer_driver.config_parameters(ControllerConfig, "control"))  # fmt: skip
DECLARED: dict[str, dict[str, Any]] = {
    "sim_sawyer_node": sim_sawyer_node.DEFAULTS, "camera_node": camera_node.DEFAULTS,
    "policy_node": policy_node.DEFAULTS, "trainer_node": trainer_node.DEFAULTS, SAWYER_DRIVER.name: DRIVER_DEFAULTS,
}  # fmt: skip
"""What each node declares (its parameter defaults), by node name."""
NODE_NAMES = {spec.executable: spec.name for graph in GRAPHS.values() for spec in graph.nodes}
"""Node name by console script."""
EVERY_NODE = set(yaml.safe_load(DEFAULT_PARAMS_FILE.read_text())["/**"]["ros__parameters"])
"""The ``/**`` section's names: for every node, ignored by those that do not declare them."""


def rig_up_dry_run(*args: str) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """`rig up ARGS --dry-run`: the environment it sets, and per node name the parameters the node would resolve."""
    result = subprocess.run([RIG, "up", *args, "--dry-run"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    environment, parameters = {}, {}
    for line in result.stdout.splitlines():
        command = shlex.split(line)
        if not command[0].startswith("/"):
            key, _, value = line.partition("=")
            environment[key] = value
            continue
        name = NODE_NAMES[Path(command[0]).name]
        values = user_values(parse_ros_args(command), name)
        unknown = set(values) - set(DECLARED[name]) - EVERY_NODE
        assert not unknown, f"{name} does not declare {unknown}"
        parameters[name] = resolve_parameters(DECLARED[name], values)  # the types the node declares, or ParameterError
    return environment, parameters


def driver_controller(params: dict[str, Any]) -> ArmController:
    """The driver's controller from its resolved parameters, as the node builds it (ValueError if it refuses)."""
    envelope = sawyer_driver.config_from(EnvelopeConfig, params, "envelope")
    control = sawyer_driver.config_from(ControllerConfig, params, "control")
    return ArmController(SawyerKinematics(), SAWYER_LIMITS, envelope, control)


@pytest.mark.parametrize("graph", sorted(GRAPHS))
def test_every_graph_starts_declared_parameters_and_one_robot_id(graph):
    environment, parameters = rig_up_dry_run(graph)
    assert set(parameters) == {spec.name for spec in GRAPHS[graph].nodes}
    assert environment["RIG_TRANSPORT"] == "dds"
    (driver,) = [name for name in parameters if name in ROBOT_DRIVERS]
    assert parameters["policy_node"]["robot_id"] == parameters[driver]["robot_id"]
    if driver == SAWYER_DRIVER.name:
        driver_controller(parameters[driver])


def test_the_parameter_file_lists_every_driver_parameter_at_its_default():
    in_file = load_parameter_file(DEFAULT_PARAMS_FILE, SAWYER_DRIVER.name)
    assert set(in_file) - EVERY_NODE == set(DRIVER_DEFAULTS)
    assert resolve_parameters(DRIVER_DEFAULTS, in_file) == resolve_parameters(DRIVER_DEFAULTS, {})


def test_rig_up_real_points_the_driver_at_the_robot_host():
    environment, parameters = rig_up_dry_run("real", "--robot-host", "sawyer.local")
    assert parameters[SAWYER_DRIVER.name]["ros_master_uri"] == "http://sawyer.local:11311"
    assert environment["ROS_MASTER_URI"] == "http://sawyer.local:11311"  # for every ROS 1 client of the graph
    assert parameters["policy_node"]["robot_id"] == parameters[SAWYER_DRIVER.name]["robot_id"] == "sawyer"
    assert parameters["camera_node"]["source"] == camera_node.DEFAULTS["source"]

    environment, parameters = rig_up_dry_run("real", "--robot-host", "10.0.0.7:11312", "--robot-id", "lab_sawyer_2")
    assert parameters[SAWYER_DRIVER.name]["ros_master_uri"] == environment["ROS_MASTER_URI"] == "http://10.0.0.7:11312"
    assert parameters["policy_node"]["robot_id"] == parameters[SAWYER_DRIVER.name]["robot_id"] == "lab_sawyer_2"

    environment, parameters = rig_up_dry_run("real")  # no host: the parameter file's, "" = ROS_MASTER_URI
    assert "ROS_MASTER_URI" not in environment and parameters[SAWYER_DRIVER.name]["ros_master_uri"] == ""

    _, parameters = rig_up_dry_run("real", "--robot-host", "sawyer.local", "--set", "sawyer_driver.envelope.box_high="
                                   "[0.7, 0.4, 0.35]", "--set", "camera_node.source=videos/lab.mp4")  # fmt: skip
    assert parameters[SAWYER_DRIVER.name]["envelope.box_high"] == [0.7, 0.4, 0.35]
    assert parameters["camera_node"]["source"] == "videos/lab.mp4"


def test_rig_up_gazebo_takes_gazebo_s_camera_and_a_home_within_its_joint_limits():
    environment, parameters = rig_up_dry_run("gazebo")
    driver = parameters[SAWYER_DRIVER.name]
    assert driver["ros_master_uri"] == environment["ROS_MASTER_URI"] == "http://localhost:11311"
    assert parameters["camera_node"]["source"] == f"ros1:{GAZEBO_HEAD_CAMERA}"
    assert parameters["policy_node"]["robot_id"] == driver["robot_id"] == "sawyer_gazebo"
    # sawyer_simulator's URDF limits right_j6 to ±3.14; the home is the real one's hand pose.
    _, real = rig_up_dry_run("real")
    assert all(abs(q) <= 3.14 for q in driver["control.home"] + driver["control.comfort_posture"])
    kinematics = SawyerKinematics()
    gazebo_pos, gazebo_quat = kinematics.forward(np.array(driver["control.home"]))
    real_pos, real_quat = kinematics.forward(np.array(real[SAWYER_DRIVER.name]["control.home"]))
    np.testing.assert_allclose(gazebo_pos, real_pos, atol=1e-4)
    assert abs(abs(float(np.dot(gazebo_quat, real_quat))) - 1.0) < 1e-6  # the same orientation (q and -q alike)
    _, parameters = rig_up_dry_run("gazebo", "--robot-host", "gazebo-box")
    assert parameters[SAWYER_DRIVER.name]["ros_master_uri"] == "http://gazebo-box:11311"


@pytest.mark.parametrize("args, error", [
    (["sim", "--robot-host", "sawyer.local"], "no Intera driver"),
    (["real", "--robot-host", "http://sawyer.local:11311"], "not a host name"),
    (["real", "--robot-host", "sawyer.local:port"], "not a host name"),
])  # fmt: skip
def test_rig_up_refuses_a_robot_host_it_cannot_use(args, error):
    result = subprocess.run([RIG, "up", *args, "--dry-run"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and error in result.stderr, result.stderr


def test_the_nodes_with_a_ros1_side_are_the_driver_and_a_camera_on_a_ros1_topic():
    for name, graph in GRAPHS.items():
        parameters = graph_parameters(graph)
        ros1 = {spec.name for spec in graph.nodes if speaks_ros1(spec, parameters[spec.name])}
        expected = {"sawyer_driver"} if name == "real" else {"sawyer_driver", "camera_node"} if name == "gazebo" else set()
        assert ros1 == expected, name
