"""rig_sim_intera_arm as a real process on a real rosmaster, driven and watched over the Intera topics by a peer node."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

pytest.importorskip("rig_sawyer_driver.ros1")

from rig_drivers.sawyer_kinematics import JOINT_NAMES, NEUTRAL, SawyerKinematics
from rig_sawyer_driver.testing import Ros1Peer, RosMaster
from rig_transport.scripts import installed_script
from rig_transport.testing import NodeProcess, start_node

__all__ = ["start_node"]

JOINT_STATES, ENDPOINT, STATE = "/robot/joint_states", "/robot/limb/right/endpoint_state", "/robot/state"
COMMAND = "/robot/limb/right/joint_command"
WATCHED = {JOINT_STATES: "sensor_msgs/JointState", ENDPOINT: "intera_core_msgs/EndpointState",
           STATE: "intera_core_msgs/RobotAssemblyState"}  # fmt: skip
VELOCITY_MODE, POSITION_MODE, TORQUE_MODE = 2, 1, 3
SCRIPT = installed_script("rig_sim_intera_arm", "rig_sawyer_driver")


@pytest.fixture
def sim_arm(ros1_env: RosMaster, start_node: Callable[..., NodeProcess]) -> Iterator[Callable[..., NodeProcess]]:
    """``sim_arm(*args)`` starts rig_sim_intera_arm with those command-line arguments (stopped at teardown)."""
    yield lambda *args: start_node("rig_sim_intera_arm", {}, args=[SCRIPT, *args])


def joints(msg: dict[str, Any]) -> np.ndarray:
    """right_j0..right_j6 positions of a joint_states message, picked by name."""
    by_name = dict(zip(msg["name"], msg["position"]))
    return np.array([by_name[name] for name in JOINT_NAMES])


def velocities(msg: dict[str, Any]) -> np.ndarray:
    by_name = dict(zip(msg["name"], msg["velocity"]))
    return np.array([by_name[name] for name in JOINT_NAMES])


def enable(peer: Ros1Peer, arm: NodeProcess) -> None:
    peer.publish("/robot/set_super_enable", "std_msgs/Bool", {"data": True})
    peer.listeners[STATE].wait_for(lambda msg: msg["enabled"] and msg["ready"], "the arm enabled", arm)


def velocity_command(**by_joint: float) -> dict[str, Any]:
    return {"mode": VELOCITY_MODE, "names": list(by_joint), "velocity": list(by_joint.values())}


def wait_until_held(peer: Ros1Peer, arm: NodeProcess) -> np.ndarray:
    """Joint angles once the arm reports zero velocity; they stay put over the next joint states too."""
    held = peer.listeners[JOINT_STATES].wait_for(lambda msg: not velocities(msg).any(), "the arm holding", arm)
    peer.listeners[JOINT_STATES].clear()
    for _ in range(10):
        later = peer.listeners[JOINT_STATES].wait_for(lambda msg: True, "joint states", arm)
        assert np.array_equal(joints(later), joints(held))
    return joints(held)


def test_publishes_joint_states_endpoint_and_state_at_the_initial_pose(sim_arm: Callable[..., NodeProcess],
                                                                      ros1_peer: Callable[..., Ros1Peer]) -> None:  # fmt: skip
    arm = sim_arm()
    peer = ros1_peer("probe", WATCHED)
    states = peer.listeners[JOINT_STATES].wait_for(lambda msg: True, "joint states", arm)
    assert states["name"] == ["head_pan", *JOINT_NAMES]
    assert np.allclose(joints(states), NEUTRAL) and not velocities(states).any()
    endpoint = peer.listeners[ENDPOINT].wait_for(lambda msg: True, "endpoint state", arm)
    position, quaternion = SawyerKinematics().forward(NEUTRAL)
    pose = endpoint["pose"]
    assert np.allclose([pose["position"][axis] for axis in "xyz"], position)
    assert np.allclose([pose["orientation"][axis] for axis in "xyzw"], quaternion)
    assert endpoint["valid"] and endpoint["header"]["frame_id"] == "base"
    state = peer.listeners[STATE].wait_for(lambda msg: True, "robot state", arm)
    assert state["homed"] and not state["enabled"] and not state["stopped"] and state["estop_source"] == 0


@pytest.mark.parametrize("how", ["option", "parameter"])
def test_initial_joints_come_from_the_option_or_the_private_parameter(
    how: str, sim_arm: Callable[..., NodeProcess], ros1_peer: Callable[..., Ros1Peer]
) -> None:
    initial = [0.1, -0.9, 0.2, 1.5, -0.3, 0.4, 1.0]
    arm = sim_arm(*(["--initial-joints", *map(str, initial)] if how == "option" else [f"_initial_joints:={initial}"]))
    peer = ros1_peer("probe", {JOINT_STATES: WATCHED[JOINT_STATES]})
    states = peer.listeners[JOINT_STATES].wait_for(lambda msg: True, "joint states", arm)
    assert np.allclose(joints(states), initial)


def test_velocity_commands_move_the_joints_their_way_then_the_arm_holds_after_the_timeout(
    sim_arm: Callable[..., NodeProcess], ros1_peer: Callable[..., Ros1Peer]
) -> None:
    arm = sim_arm()
    peer = ros1_peer("probe", WATCHED)
    enable(peer, arm)
    peer.stream(COMMAND, "intera_core_msgs/JointCommand", velocity_command(right_j0=0.4, right_j3=-0.3), rate_hz=50.0)
    moved = peer.listeners[JOINT_STATES].wait_for(
        lambda msg: joints(msg)[0] > NEUTRAL[0] + 0.05 and joints(msg)[3] < NEUTRAL[3] - 0.03, "j0 up and j3 down", arm)
    assert np.allclose(np.delete(joints(moved), [0, 3]), np.delete(NEUTRAL, [0, 3]))  # the others held
    endpoint = peer.listeners[ENDPOINT].wait_for(lambda msg: msg["twist"]["linear"]["y"] != 0.0, "hand moving", arm)
    assert endpoint["valid"]
    peer.stop(COMMAND)  # no more commands: after the 0.2 s command timeout the arm holds
    held = wait_until_held(peer, arm)
    assert held[0] > NEUTRAL[0] + 0.05


def test_position_commands_bring_a_joint_to_its_target(sim_arm: Callable[..., NodeProcess],
                                                       ros1_peer: Callable[..., Ros1Peer]) -> None:  # fmt: skip
    arm = sim_arm()
    peer = ros1_peer("probe", WATCHED)
    enable(peer, arm)
    target = NEUTRAL[5] - 0.2
    peer.stream(COMMAND, "intera_core_msgs/JointCommand", {"mode": POSITION_MODE, "names": ["right_j5"],
                                                            "position": [target]}, rate_hz=50.0)  # fmt: skip
    peer.listeners[JOINT_STATES].wait_for(lambda msg: abs(joints(msg)[5] - target) < 1e-9, "j5 at its target", arm)


def test_other_modes_are_ignored_with_a_warning(sim_arm: Callable[..., NodeProcess],
                                                ros1_peer: Callable[..., Ros1Peer]) -> None:  # fmt: skip
    arm = sim_arm()
    peer = ros1_peer("probe", WATCHED)
    enable(peer, arm)
    peer.stream(COMMAND, "intera_core_msgs/JointCommand", {"mode": TORQUE_MODE, "names": ["right_j0"], "effort": [5.0]},
                rate_hz=50.0)  # fmt: skip
    arm.wait_for_log("joint command mode 3 is not simulated")
    peer.listeners[JOINT_STATES].clear()
    states = peer.listeners[JOINT_STATES].wait_for(lambda msg: True, "joint states", arm)
    assert np.allclose(joints(states), NEUTRAL) and arm.alive()


def test_e_stop_holds_the_arm_until_reset_and_enabled_again(sim_arm: Callable[..., NodeProcess],
                                                             ros1_peer: Callable[..., Ros1Peer]) -> None:  # fmt: skip
    arm = sim_arm()
    peer = ros1_peer("probe", WATCHED)
    enable(peer, arm)
    peer.stream(COMMAND, "intera_core_msgs/JointCommand", velocity_command(right_j1=0.3), rate_hz=50.0)
    peer.listeners[JOINT_STATES].wait_for(lambda msg: joints(msg)[1] > NEUTRAL[1] + 0.02, "j1 moving", arm)
    peer.publish("/robot/set_super_stop", "std_msgs/Empty", {})
    state = peer.listeners[STATE].wait_for(lambda msg: msg["stopped"], "the e-stop asserted", arm)
    assert not state["enabled"] and not state["ready"] and (state["estop_button"], state["estop_source"]) == (2, 4)
    stopped_at = wait_until_held(peer, arm)  # while the commands keep coming
    peer.publish("/robot/set_super_enable", "std_msgs/Bool", {"data": True})  # refused: still stopped
    arm.wait_for_log("cannot enable: the e-stop is asserted")
    peer.publish("/robot/set_super_reset", "std_msgs/Empty", {})
    peer.listeners[STATE].wait_for(lambda msg: not msg["stopped"] and not msg["enabled"], "the e-stop cleared", arm)
    enable(peer, arm)
    peer.listeners[JOINT_STATES].wait_for(lambda msg: joints(msg)[1] > stopped_at[1] + 0.02, "j1 moving again", arm)


def test_the_arm_keeps_its_topics_across_a_master_restart(ros1_env: RosMaster, sim_arm: Callable[..., NodeProcess],
                                                          ros1_peer: Callable[..., Ros1Peer]) -> None:  # fmt: skip
    arm = sim_arm()
    before = ros1_peer("before", {JOINT_STATES: WATCHED[JOINT_STATES]})
    before.listeners[JOINT_STATES].wait_for(lambda msg: True, "joint states before the restart", arm)
    ros1_env.kill()
    ros1_env.start()
    after = ros1_peer("after", WATCHED)  # registered with the new master only
    enable(after, arm)
    after.stream(COMMAND, "intera_core_msgs/JointCommand", velocity_command(right_j2=0.5), rate_hz=50.0)
    after.listeners[JOINT_STATES].wait_for(lambda msg: joints(msg)[2] > NEUTRAL[2] + 0.05, "j2 moving", arm)
