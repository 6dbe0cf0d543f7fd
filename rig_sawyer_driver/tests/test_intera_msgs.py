"""The generated intera_core_msgs classes are the robot's: same md5sums, type names, fields and constants."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("rig_sawyer_driver.ros1")

from rig_sawyer_driver import intera_msgs

# md5sums of RethinkRobotics/intera_common at commit a298fec (a298fec02b8300e23841085a73c2039261c3d43c), computed once
# in a scratch directory outside this repository with genmsg (msg_loader.load_msg_by_type + load_depends,
# gentools.compute_md5) on the fetched original files intera_core_msgs/msg/{JointCommand,EndpointState,
# RobotAssemblyState,JointLimits}.msg, std_msgs and geometry_msgs from Debian's python3-*-msgs. The first three also
# appear, identical, in third-party code generated from those files (a ROS# C# binding and rosserial headers).
REFERENCE = {
    "JointCommand": (
        "c8c85922d297da6209a089a906207e5d",
        {"header": "std_msgs/Header", "mode": "int32", "names": "string[]", "position": "float64[]",
         "velocity": "float64[]", "acceleration": "float64[]", "effort": "float64[]"},
        {"POSITION_MODE": 1, "VELOCITY_MODE": 2, "TORQUE_MODE": 3, "TRAJECTORY_MODE": 4},
    ),
    "EndpointState": (
        "ec04f0f9bc02b3e335181c07d68c2c98",
        {"header": "std_msgs/Header", "pose": "geometry_msgs/Pose", "twist": "geometry_msgs/Twist",
         "wrench": "geometry_msgs/Wrench", "valid": "bool"},
        {},
    ),
    "RobotAssemblyState": (
        "df79ce5f75a6b23626e9fcdf1cc4d298",
        {"homed": "bool", "ready": "bool", "enabled": "bool", "stopped": "bool", "error": "bool", "lowVoltage": "bool",
         "estop_button": "uint8", "estop_source": "uint8"},
        {"ESTOP_BUTTON_UNPRESSED": 0, "ESTOP_BUTTON_PRESSED": 1, "ESTOP_BUTTON_UNKNOWN": 2, "ESTOP_BUTTON_RELEASED": 3,
         "ESTOP_SOURCE_NONE": 0, "ESTOP_SOURCE_USER": 1, "ESTOP_SOURCE_UNKNOWN": 2, "ESTOP_SOURCE_FAULT": 3,
         "ESTOP_SOURCE_ENGINE": 4},
    ),
    "JointLimits": (
        "c4c445eb2c9324525a704c84ca1e7598",
        {"joint_names": "string[]", "position_lower": "float64[]", "position_upper": "float64[]",
         "velocity": "float64[]", "accel": "float64[]", "effort": "float64[]"},
        {},
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(REFERENCE))
def test_generated_class_matches_the_robots_definition(name: str) -> None:
    md5sum, fields, constants = REFERENCE[name]
    cls = getattr(intera_msgs, name)
    assert cls._type == f"intera_core_msgs/{name}"
    assert cls._md5sum == md5sum
    assert dict(zip(cls.__slots__, cls._slot_types)) == fields
    assert list(cls.__slots__) == list(fields)  # wire order
    assert {constant: getattr(cls, constant) for constant in constants} == constants


def test_joint_command_round_trips_through_its_wire_format() -> None:
    command = intera_msgs.JointCommand(mode=intera_msgs.JointCommand.VELOCITY_MODE, names=["right_j0", "right_j6"],
                                       velocity=[0.25, -1.5])  # fmt: skip
    command.header.frame_id, command.header.seq = "base", 7
    buffer = io.BytesIO()
    command.serialize(buffer)
    decoded = intera_msgs.JointCommand().deserialize(buffer.getvalue())
    assert decoded.mode == 2 and decoded.names == ["right_j0", "right_j6"] and list(decoded.velocity) == [0.25, -1.5]
    assert decoded.header.frame_id == "base" and decoded.header.seq == 7 and list(decoded.position) == []


def test_endpoint_state_round_trips_with_the_installed_geometry_types() -> None:
    from rig_sawyer_driver.ros1 import geometry_msgs

    state = intera_msgs.EndpointState(valid=True)
    state.pose = geometry_msgs.msg.Pose(position=geometry_msgs.msg.Point(0.5, -0.25, 0.125))
    state.pose.orientation.w = 1.0
    state.twist.angular.z, state.wrench.force.y = 0.75, -3.0
    buffer = io.BytesIO()
    state.serialize(buffer)
    decoded = intera_msgs.EndpointState().deserialize(buffer.getvalue())
    assert isinstance(decoded.pose, geometry_msgs.msg.Pose)
    assert (decoded.pose.position.x, decoded.pose.position.y, decoded.pose.position.z) == (0.5, -0.25, 0.125)
    assert (decoded.pose.orientation.w, decoded.twist.angular.z, decoded.wrench.force.y) == (1.0, 0.75, -3.0)
    assert decoded.valid is True


def test_robot_assembly_state_round_trips() -> None:
    state = intera_msgs.RobotAssemblyState(enabled=True, stopped=True, estop_source=intera_msgs.RobotAssemblyState.
                                           ESTOP_SOURCE_ENGINE)  # fmt: skip
    buffer = io.BytesIO()
    state.serialize(buffer)
    decoded = intera_msgs.RobotAssemblyState().deserialize(buffer.getvalue())
    assert (decoded.enabled, decoded.stopped, decoded.homed, decoded.estop_source) == (True, True, False, 4)


def test_a_wheel_carries_the_message_files(tmp_path: Path) -> None:
    """A non-editable install (wheel) has the .msg files, and the classes generate from them there."""
    source = tmp_path / "source"
    shutil.copytree(Path(__file__).parents[1], source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", tmp_path / "dist", source], check=True)
    (wheel,) = (tmp_path / "dist").glob("rig_sawyer_driver-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        carried = {name for name in archive.namelist() if name.endswith(".msg")}
    assert carried == {f"rig_sawyer_driver/msg/intera_core_msgs/{name}.msg" for name in REFERENCE}
    subprocess.run([*pip, "install", "--no-deps", "--target", tmp_path / "site", wheel], check=True)
    probe = "import rig_sawyer_driver.intera_msgs as m; print(m.__file__, m.JointCommand._md5sum)"
    result = subprocess.run([sys.executable, "-c", probe], env={**os.environ, "PYTHONPATH": str(tmp_path / "site")},
                            check=True, capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    module_file, md5sum = result.stdout.split()
    assert Path(module_file).is_relative_to(tmp_path / "site") and md5sum == REFERENCE["JointCommand"][0]
