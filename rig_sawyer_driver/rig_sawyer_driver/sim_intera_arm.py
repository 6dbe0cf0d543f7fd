"""A simulated Intera (Sawyer) arm as a ROS 1 node, speaking the robot's own topics: for tests and labs without one.

``rig_sim_intera_arm [--initial-joints J0 ... J6]`` (or the private parameter ``~initial_joints``; default Intera's
neutral pose). Kinematic only (`InteraArmModel`, stepped at the joint-state rate; hand pose from
`rig_drivers.sawyer_kinematics`, the model the MuJoCo tasks use).

| topic | type | direction |
| --- | --- | --- |
| /robot/limb/right/joint_command | intera_core_msgs/JointCommand (VELOCITY_MODE, POSITION_MODE; others ignored) | in |
| /robot/limb/right/joint_command_timeout | std_msgs/Float64 (s; the controller's command timeout, default 0.2) | in |
| /robot/set_super_enable | std_msgs/Bool | in |
| /robot/set_super_stop, /robot/set_super_reset | std_msgs/Empty (e-stop asserted / cleared) | in |
| /robot/joint_states | sensor_msgs/JointState, 100 Hz, head_pan + right_j0..right_j6 | out |
| /robot/limb/right/endpoint_state | intera_core_msgs/EndpointState (right_hand in base), 100 Hz | out |
| /robot/state | intera_core_msgs/RobotAssemblyState, 10 Hz | out |

A software e-stop reports ``stopped`` with estop_button UNKNOWN and estop_source ENGINE. Bad commands are logged
(at most once a second per kind) and ignored. Topics stay registered across a master restart (`MasterWatch`).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rig_drivers.sawyer_kinematics import JOINT_NAMES, NEUTRAL, SAWYER_LIMITS, SawyerKinematics
from rig_sawyer_driver.intera_arm_model import InteraArmModel
from rig_sawyer_driver.intera_msgs import EndpointState, JointCommand, RobotAssemblyState
from rig_sawyer_driver.master_watch import MasterWatch
from rig_sawyer_driver.ros1 import rospy, sensor_msgs, std_msgs

NODE_NAME = "sim_intera_arm"
LIMB = "/robot/limb/right"
JOINT_STATE_HZ = 100
STATE_EVERY = 10
"""/robot/state is published every STATE_EVERY-th joint-state tick (10 Hz)."""
STATE_NAMES = ("head_pan", *JOINT_NAMES)
"""As on the robot, /robot/joint_states lists the head too: a client must pick its joints by name."""


class SimInteraArm:
    """The arm model behind the Intera topics; callbacks (rospy's threads) and `tick` share it under a lock."""

    def __init__(self, arm: InteraArmModel) -> None:
        self.arm = arm
        self._lock = threading.Lock()
        self._kinematics = SawyerKinematics()  # used by tick's thread only
        self._joint_states = rospy.Publisher("/robot/joint_states", sensor_msgs.msg.JointState, queue_size=10)
        self._endpoint = rospy.Publisher(f"{LIMB}/endpoint_state", EndpointState, queue_size=10)
        self._state = rospy.Publisher("/robot/state", RobotAssemblyState, queue_size=10)
        self._subscribers = [
            rospy.Subscriber(f"{LIMB}/joint_command", JointCommand, self._on_command, tcp_nodelay=True),
            rospy.Subscriber(f"{LIMB}/joint_command_timeout", std_msgs.msg.Float64, self._guarded(
                "timeout", lambda msg: self.arm.set_timeout(msg.data))),
            rospy.Subscriber("/robot/set_super_enable", std_msgs.msg.Bool, self._guarded(
                "enable", lambda msg: self.arm.enable(msg.data))),
            rospy.Subscriber("/robot/set_super_stop", std_msgs.msg.Empty, self._guarded("stop", lambda _: self.arm.stop())),
            rospy.Subscriber("/robot/set_super_reset", std_msgs.msg.Empty, self._guarded(
                "reset", lambda _: self.arm.reset())),
        ]  # fmt: skip
        self._ticks = 0

    def _guarded(self, kind: str, apply: Callable[[Any], None]) -> Callable[[Any], None]:
        """A callback applying ``apply(msg)`` to the arm under the lock; a refusal is logged, never raised."""

        def callback(msg: Any) -> None:
            try:
                with self._lock:
                    apply(msg)
            except ValueError as error:
                rospy.logwarn_throttle_identical(1.0, f"{kind}: {error}")

        return callback

    def _on_command(self, msg: Any) -> None:
        now_s = time.monotonic()
        if msg.mode == JointCommand.VELOCITY_MODE:
            self._guarded("velocity command", lambda m: self.arm.command_velocity(m.names, m.velocity, now_s))(msg)
        elif msg.mode == JointCommand.POSITION_MODE:
            self._guarded("position command", lambda m: self.arm.command_position(m.names, m.position, now_s))(msg)
        else:
            rospy.logwarn_throttle_identical(1.0, f"joint command mode {msg.mode} is not simulated; ignored")

    def tick(self) -> None:
        """Step the arm to now and publish its joint states, endpoint state and (every STATE_EVERY ticks) state."""
        with self._lock:
            self.arm.step(time.monotonic())
            q, qdot, enabled, stopped = self.arm.q.copy(), self.arm.qdot.copy(), self.arm.enabled, self.arm.stopped
        stamp = rospy.Time.now()
        joints = sensor_msgs.msg.JointState(name=list(STATE_NAMES), position=[0.0, *q], velocity=[0.0, *qdot],
                                            effort=[0.0] * len(STATE_NAMES))  # fmt: skip
        joints.header.stamp = stamp
        self._joint_states.publish(joints)
        self._endpoint.publish(self._endpoint_state(q, qdot, stamp))
        if self._ticks % STATE_EVERY == 0:
            self._state.publish(robot_state(enabled, stopped))
        self._ticks += 1

    def _endpoint_state(self, q: np.ndarray, qdot: np.ndarray, stamp: Any) -> Any:
        position, quaternion = self._kinematics.forward(q)
        twist = self._kinematics.jacobian(q) @ qdot
        msg = EndpointState(valid=True)
        msg.header.stamp, msg.header.frame_id = stamp, "base"
        msg.pose.position.x, msg.pose.position.y, msg.pose.position.z = position
        msg.pose.orientation.x, msg.pose.orientation.y, msg.pose.orientation.z, msg.pose.orientation.w = quaternion
        msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z = twist[:3]
        msg.twist.angular.x, msg.twist.angular.y, msg.twist.angular.z = twist[3:]
        return msg


def robot_state(enabled: bool, stopped: bool) -> Any:
    """The RobotAssemblyState of a homed, fault-free arm; a software e-stop is button UNKNOWN, source ENGINE."""
    return RobotAssemblyState(
        homed=True, ready=enabled and not stopped, enabled=enabled, stopped=stopped, error=False, lowVoltage=False,
        estop_button=RobotAssemblyState.ESTOP_BUTTON_UNKNOWN if stopped else RobotAssemblyState.ESTOP_BUTTON_UNPRESSED,
        estop_source=RobotAssemblyState.ESTOP_SOURCE_ENGINE if stopped else RobotAssemblyState.ESTOP_SOURCE_NONE,
    )  # fmt: skip


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rig_sim_intera_arm", description=__doc__.split("\n\n")[0])
    parser.add_argument("--initial-joints", type=float, nargs=len(JOINT_NAMES), metavar="Q",
                        help="initial right_j0..right_j6 (rad); default ~initial_joints, else neutral")  # fmt: skip
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Console script: run until SIGINT/SIGTERM (0), or 1 for bad initial joints."""
    args = parse_args(rospy.myargv(sys.argv if argv is None else argv)[1:])
    rospy.init_node(NODE_NAME)
    initial = args.initial_joints or rospy.get_param("~initial_joints", NEUTRAL.tolist())
    try:
        arm = InteraArmModel(initial, SAWYER_LIMITS)
    except ValueError as error:
        rospy.logerr("%s", error)
        return 1
    node = SimInteraArm(arm)
    MasterWatch().start()
    rospy.loginfo("simulated Intera arm at %s, publishing /robot/joint_states at %d Hz", np.round(arm.q, 4).tolist(),
                  JOINT_STATE_HZ)  # fmt: skip
    rate = rospy.Rate(JOINT_STATE_HZ)
    while not rospy.is_shutdown():
        node.tick()
        try:
            rate.sleep()
        except rospy.ROSInterruptException:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
