"""The real Sawyer driver node: /rig/* on the ROS 2 side (rig_transport), Intera on the ROS 1 side (rospy).

    rig_sawyer_driver --ros-args --params-file rig_params.yaml [-p ros_master_uri:=http://sawyer.local:11311]

A control loop of its own streams joint velocities to /robot/limb/<limb>/joint_command (VELOCITY_MODE) at
``control.rate_hz``; the newest /rig/cmd_ee_velocity is only an input to it. See README.md for every topic.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any

import numpy as np

from rig_drivers.arm_controller import ArmController, ControllerConfig
from rig_drivers.safety import EnvelopeConfig
from rig_drivers.sawyer_kinematics import JOINT_NAMES, SAWYER_LIMITS, SawyerKinematics
from rig_sawyer_driver.background import BackgroundLoop
from rig_sawyer_driver.driver import DriverCore, RobotState, TickOutput
from rig_transport import COMMAND, LATCHED, SENSOR_DATA, STATUS, Transport, make_transport

NODE_NAME = "sawyer_driver"
BASE_FRAME = "base"
DEFAULTS: dict[str, Any] = {
    "robot_id": "sawyer",
    "limb": "right",
    "ros_master_uri": "",
    "ros_ip": "",
    "enable_robot": True,
    "intera_command_timeout_s": 0.2,
    "joint_state_timeout_s": 0.1,
    "reset_timeout_s": 30.0,
    "pose_rate_hz": 30.0,
    "status_rate_hz": 2.0,
}


def config_parameters(cls: type, prefix: str) -> dict[str, Any]:
    """Parameter defaults from a config dataclass's fields (tuples as lists), named ``<prefix>.<field>``."""
    defaults = cls()
    return {f"{prefix}.{f.name}": (list(v) if isinstance(v := getattr(defaults, f.name), tuple) else v)
            for f in fields(cls)}  # fmt: skip


def config_from(cls: type, params: dict[str, Any], prefix: str) -> Any:
    """The config dataclass from declared parameters (ValueError from its own checks if they are inconsistent)."""
    values = {f.name: params[f"{prefix}.{f.name}"] for f in fields(cls)}
    return cls(**{name: tuple(value) if isinstance(value, list) else value for name, value in values.items()})


class ControlLoop(BackgroundLoop):
    """Calls ``tick`` every ``period_s`` on a thread of its own, on a steady schedule (late ticks are not bunched)."""

    def __init__(self, period_s: float, tick: Callable[[float], None]) -> None:
        super().__init__("control_loop")
        self.period_s, self._tick = period_s, tick

    def _run(self) -> None:
        due = time.monotonic()
        while not self._stopped.is_set():
            now = time.monotonic()
            if now < due:
                self._stopped.wait(due - now)
                continue
            self._tick(now)
            due = max(due + self.period_s, now)


class InteraArm:
    """The robot's Intera topics (ROS 1): joint commands out, joint states and robot state in, enable."""

    def __init__(self, core: DriverCore, limb: str, command_timeout_s: float, enable: bool) -> None:
        from rig_sawyer_driver.intera_msgs import JointCommand, RobotAssemblyState
        from rig_sawyer_driver.master_watch import MasterWatch
        from rig_sawyer_driver.ros1 import init_node, rospy, sensor_msgs, std_msgs

        self._rospy, self._command_cls = rospy, JointCommand
        init_node("rig_sawyer_driver")
        self._command = rospy.Publisher(f"/robot/limb/{limb}/joint_command", JointCommand, queue_size=1,
                                        tcp_nodelay=True)  # fmt: skip
        timeout = rospy.Publisher(f"/robot/limb/{limb}/joint_command_timeout", std_msgs.msg.Float64, queue_size=1,
                                  latch=True)  # fmt: skip
        timeout.publish(std_msgs.msg.Float64(command_timeout_s))
        if enable:
            self._enable = rospy.Publisher("/robot/set_super_enable", std_msgs.msg.Bool, queue_size=1, latch=True)
            self._enable.publish(std_msgs.msg.Bool(True))

        def on_joints(msg: Any) -> None:
            core.on_joint_state(list(msg.name), list(msg.position), time.monotonic())

        def on_state(msg: Any) -> None:
            core.on_robot_state(RobotState(bool(msg.enabled), bool(msg.stopped), bool(msg.error)))

        rospy.Subscriber("/robot/joint_states", sensor_msgs.msg.JointState, on_joints, queue_size=1, tcp_nodelay=True)
        rospy.Subscriber("/robot/state", RobotAssemblyState, on_state, queue_size=1)
        self._watch = MasterWatch()
        self._watch.start()

    def send(self, qdot: np.ndarray) -> None:
        """One VELOCITY_MODE joint command."""
        command = self._command_cls(mode=self._command_cls.VELOCITY_MODE, names=list(JOINT_NAMES),
                                    velocity=[float(v) for v in qdot])  # fmt: skip
        command.header.stamp = self._rospy.Time.now()
        self._command.publish(command)

    def close(self) -> None:
        self._watch.stop()
        self._rospy.signal_shutdown("driver stopped")


class SawyerDriverNode:
    """The ROS 2 side: commands, resets and the operator stop in; pose, joint states and status out."""

    def __init__(self, transport: Transport, params: dict[str, Any], core: DriverCore, arm: InteraArm) -> None:
        self.transport, self.log, self.core, self.arm = transport, transport.logger, core, arm
        self.robot_id = str(params["robot_id"])
        event_cls = type(transport.new("rig_msgs/msg/EpisodeEvent"))
        self._reset_request, self._reset_done = event_cls.RESET_REQUEST, event_cls.RESET_DONE
        self._sent = 0
        self._rate_window = (time.monotonic(), 0)
        self._last_step: Any = None
        self._errors_logged = ""

        self._pose = transport.create_publisher("/rig/ee_pose", "geometry_msgs/msg/PoseStamped", SENSOR_DATA)
        self._joints = transport.create_publisher("/rig/joint_states", "sensor_msgs/msg/JointState", SENSOR_DATA)
        self._status = transport.create_publisher("/rig/driver/status", "rig_msgs/msg/DriverStatus", STATUS)
        self._episode = transport.create_publisher("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS)
        transport.create_subscription("/rig/cmd_ee_velocity", "geometry_msgs/msg/TwistStamped", COMMAND, self._on_command)
        transport.create_subscription("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS, self._on_episode_event)
        transport.create_subscription("/rig/driver/stop", "std_msgs/msg/Bool", LATCHED, self._on_stop)
        transport.create_timer(1.0 / float(params["pose_rate_hz"]), self._publish_pose)
        transport.create_timer(1.0 / float(params["status_rate_hz"]), self._publish_status)

    def control_tick(self, now: float) -> None:
        """The control loop's tick: stream the joint velocities, answer a finished reset."""
        output: TickOutput = self.core.tick(now)
        if output.qdot is not None:
            self.arm.send(output.qdot)
            self._sent += 1
        if output.step is not None:
            self._last_step = output.step
        if output.reset_done is not None:
            self._answer_reset(output.reset_done)
            self.log.info("reset after episode %d done: at home", output.reset_done)

    def _on_command(self, msg: Any) -> None:
        linear, angular = msg.twist.linear, msg.twist.angular
        self.core.on_command((float(linear.x), float(linear.y), float(linear.z)),
                             (float(angular.x), float(angular.y), float(angular.z)), time.monotonic())  # fmt: skip

    def _on_episode_event(self, msg: Any) -> None:
        if msg.robot_id != self.robot_id or msg.event != self._reset_request:
            return
        if (done := self.core.request_reset(int(msg.episode_id), time.monotonic())) is not None:
            self._answer_reset(done)  # asked again for a reset that is done: the answer was lost
        else:
            self.log.info("reset after episode %d: moving home", msg.episode_id)

    def _on_stop(self, msg: Any) -> None:
        self.core.set_operator_stop(bool(msg.data))
        self.log.warning("operator stop %s", "pressed: the arm holds until released" if msg.data else "released")

    def _answer_reset(self, episode_id: int) -> None:
        header = self.transport.new("std_msgs/msg/Header", stamp=self.transport.now(), frame_id=BASE_FRAME)
        self._episode.publish(self.transport.new("rig_msgs/msg/EpisodeEvent", header=header, robot_id=self.robot_id,
                                                 episode_id=episode_id, event=self._reset_done))  # fmt: skip

    def _hand_pose(self, q: np.ndarray | None) -> Any | None:
        if q is None:
            return None
        position, quaternion = self.core.controller.kinematics.forward(q)
        new = self.transport.new
        return new("geometry_msgs/msg/Pose",
                   position=new("geometry_msgs/msg/Point", x=float(position[0]), y=float(position[1]),
                                z=float(position[2])),
                   orientation=new("geometry_msgs/msg/Quaternion", x=float(quaternion[0]), y=float(quaternion[1]),
                                   z=float(quaternion[2]), w=float(quaternion[3])))  # fmt: skip

    def _publish_pose(self) -> None:
        q = self.core.q  # one reading for the pose and the joint states
        pose = self._hand_pose(q)
        if pose is None or q is None:
            return
        header = self.transport.new("std_msgs/msg/Header", stamp=self.transport.now(), frame_id=BASE_FRAME)
        self._pose.publish(self.transport.new("geometry_msgs/msg/PoseStamped", header=header, pose=pose))
        self._joints.publish(self.transport.new("sensor_msgs/msg/JointState", header=header, name=list(JOINT_NAMES),
                                                position=q.tolist()))  # fmt: skip

    def _publish_status(self) -> None:
        core, counters = self.core, self.core.controller.counters
        if core.last_error != self._errors_logged:
            self._errors_logged = core.last_error
            self.log.warning("%s", core.last_error)
        start, sent_before = self._rate_window
        now = time.monotonic()
        rate = (self._sent - sent_before) / max(now - start, 1e-9)
        self._rate_window = (now, self._sent)
        state = core.robot_state or RobotState(False, False, False)
        step = self._last_step
        fields_ = {name: getattr(counters, name) for name in (
            "watchdog_stops", "box_cuts", "speed_clamps", "joint_margin_stops", "singularity_slowdowns",
            "singularity_stops")}  # fmt: skip
        pose = self._hand_pose(core.q) or self.transport.new("geometry_msgs/msg/Pose")
        header = self.transport.new("std_msgs/msg/Header", stamp=self.transport.now(), frame_id=BASE_FRAME)
        self._status.publish(self.transport.new(
            "rig_msgs/msg/DriverStatus", header=header, robot_id=self.robot_id, mode=core.mode.value,
            hold=step.hold.value if step is not None else "no_command", robot_enabled=state.enabled,
            robot_stopped=state.stopped, robot_error=state.error, operator_stopped=core.controller.gate.operator_stopped,
            commands_accepted=counters.accepted, commands_rejected=counters.rejected,
            condition_number=float(step.condition) if step is not None else float("nan"), command_rate_hz=rate,
            hand_pose=pose, last_error=core.last_error, **fields_))  # fmt: skip


def build(transport: Transport) -> tuple[SawyerDriverNode, ControlLoop, InteraArm]:
    """Declare parameters, connect to the robot (ROS 1) and wire everything; ValueError for bad parameters."""
    params = transport.declare_parameters(DEFAULTS | config_parameters(EnvelopeConfig, "envelope")
                                          | config_parameters(ControllerConfig, "control"))  # fmt: skip
    envelope = config_from(EnvelopeConfig, params, "envelope")
    control = config_from(ControllerConfig, params, "control")
    for name in ("intera_command_timeout_s", "joint_state_timeout_s", "reset_timeout_s", "pose_rate_hz", "status_rate_hz"):
        if not params[name] > 0:
            raise ValueError(f"{name} must be > 0, got {params[name]}")
    controller = ArmController(SawyerKinematics(), SAWYER_LIMITS, envelope, control)
    core = DriverCore(controller, float(params["joint_state_timeout_s"]), float(params["reset_timeout_s"]))
    for variable, name in (("ROS_MASTER_URI", "ros_master_uri"), ("ROS_IP", "ros_ip")):
        if params[name]:
            os.environ[variable] = str(params[name])
    arm = InteraArm(core, str(params["limb"]), float(params["intera_command_timeout_s"]), bool(params["enable_robot"]))
    node = SawyerDriverNode(transport, params, core, arm)
    transport.logger.info("robot %s on %s, limb %s, %.0f Hz; safety envelope: %s; home %s", node.robot_id,
                          os.environ.get("ROS_MASTER_URI", "(ROS_MASTER_URI unset)"), params["limb"], control.rate_hz,
                          envelope.describe(), list(control.home))  # fmt: skip
    return node, ControlLoop(1.0 / control.rate_hz, node.control_tick), arm


def main(argv: Sequence[str] | None = None) -> int:
    """Console script ``rig_sawyer_driver [--ros-args ...]``: spin until SIGINT/SIGTERM; 1 for bad parameters."""
    try:
        # Always the DDS backend (the ROS 2 wire format, rclpy not imported): ROS 1's message packages, which the
        # Intera side needs, share their Python names with ROS 2's, and one process cannot hold both.
        transport = make_transport(NODE_NAME, backend="dds", argv=sys.argv if argv is None else argv)
    except ValueError as error:  # a malformed --ros-args section
        print(f"{NODE_NAME}: {error}", file=sys.stderr)
        return 1
    try:
        node, loop, arm = build(transport)
    except (ValueError, ImportError) as error:  # bad parameters, or ROS 1 missing (Ros1Unavailable: ImportError)
        transport.logger.error("%s", error)
        transport.shutdown()
        return 1
    loop.start()
    try:
        transport.spin()
    finally:
        loop.stop()
        arm.send(np.zeros(len(JOINT_NAMES)))  # stop now; the robot holds once its command timeout passes
        arm.close()
        transport.shutdown()
        node.log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
