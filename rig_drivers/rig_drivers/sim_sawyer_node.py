"""The simulated Sawyer driver node: a rig_core MuJoCo task behind the /rig/* topics (see README.md)."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from rig_core.envs import make_task
from rig_core.envs.tasks import TASKS
from rig_drivers.sim_driver import Observation, SimDriver
from rig_drivers.sim_thread import SimThread
from rig_transport import COMMAND, LATCHED, SENSOR_DATA, STATUS, MessageFactory, Transport, make_transport
from rig_transport.images import rgb_to_image

NODE_NAME = "sim_sawyer_node"
DEFAULTS: dict[str, Any] = {
    "task": "visual-reacher",
    "image_size": 84,
    "robot_id": "sawyer_sim",
    "rate_hz": 10.0,
    "command_timeout_s": 0.5,
    "seed": 0,
}
CAMERA_FRAME = "rig_camera"
WORLD_FRAME = "world"


def pose_msg(factory: MessageFactory, hand_xy: np.ndarray, hand_z: float, stamp: Any) -> Any:
    """geometry_msgs/PoseStamped of the hand in the world frame (orientation not controlled: identity)."""
    x, y = (float(value) for value in hand_xy[:2])
    pose = factory.new("geometry_msgs/msg/Pose", position=factory.new("geometry_msgs/msg/Point", x=x, y=y, z=hand_z),
                       orientation=factory.new("geometry_msgs/msg/Quaternion", w=1.0))  # fmt: skip
    return factory.new("geometry_msgs/msg/PoseStamped", header=header_msg(factory, stamp, WORLD_FRAME), pose=pose)


def task_state_msg(factory: MessageFactory, obs: Observation, robot_id: str, stamp: Any) -> Any:
    """rig_msgs/SimTaskState of an observation."""
    return factory.new(
        "rig_msgs/msg/SimTaskState", header=header_msg(factory, stamp, WORLD_FRAME), robot_id=robot_id,
        episode_id=obs.episode_id, step=obs.step, state=obs.state.tolist(), goal_state=obs.goal_state.tolist(),
        distance_names=list(obs.distances), distances=list(obs.distances.values()),
    )  # fmt: skip


def header_msg(factory: MessageFactory, stamp: Any, frame_id: str) -> Any:
    return factory.new("std_msgs/msg/Header", stamp=stamp, frame_id=frame_id)


class SimSawyerNode:
    """Subscriptions, publishers and the control timer around a SimDriver, whose task lives on ``sim_thread``."""

    def __init__(self, transport: Transport, sim_thread: SimThread) -> None:
        self.transport, self.log = transport, transport.logger
        params = transport.declare_parameters(DEFAULTS)
        self.robot_id, task_name, image_size = str(params["robot_id"]), str(params["task"]), int(params["image_size"])
        rate_hz = float(params["rate_hz"])
        if image_size <= 0:
            raise ValueError(f"image_size must be > 0, got {image_size}")
        if task_name not in TASKS:
            raise ValueError(f"unknown task {task_name!r}; valid names: {', '.join(TASKS)}")
        spec = TASKS[task_name]
        self.hand_z, self.sim = spec.hand_z, sim_thread

        def create() -> SimDriver:
            return SimDriver(make_task(task_name, image_size), spec.action_scale, rate_hz,
                             float(params["command_timeout_s"]), int(params["seed"]), self.log)  # fmt: skip

        self.driver = self.sim.call(create)
        event_cls = type(transport.new("rig_msgs/msg/EpisodeEvent"))
        self._reset_request, self._reset_done = event_cls.RESET_REQUEST, event_cls.RESET_DONE

        self._image = transport.create_publisher("/rig/camera/image_raw", "sensor_msgs/msg/Image", SENSOR_DATA)
        self._pose = transport.create_publisher("/rig/ee_pose", "geometry_msgs/msg/PoseStamped", SENSOR_DATA)
        self._task_state = transport.create_publisher("/rig/sim/task_state", "rig_msgs/msg/SimTaskState", STATUS)
        self._episode = transport.create_publisher("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS)
        self._goal_image = transport.create_publisher("/rig/goal_image", "sensor_msgs/msg/Image", LATCHED)
        transport.create_subscription("/rig/cmd_ee_velocity", "geometry_msgs/msg/TwistStamped", COMMAND, self._on_command)
        transport.create_subscription("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS, self._on_episode_event)
        transport.create_subscription("/rig/sim/set_goal_state", "rig_msgs/msg/SimGoal", STATUS, self._on_set_goal)
        transport.create_subscription("/rig/driver/stop", "std_msgs/msg/Bool", LATCHED, self._on_stop)
        transport.create_timer(1.0 / rate_hz, self._on_tick)
        self.log.info("robot %s: %s, %dx%d images, %.1f Hz, command timeout %.2f s, seed %d", self.robot_id, task_name,
                      image_size, image_size, rate_hz, params["command_timeout_s"], params["seed"])  # fmt: skip
        self.log.info("safety envelope (world frame): %s", self.driver.envelope.describe())

    def _on_tick(self) -> None:
        obs = self.sim.call(self.driver.tick, time.monotonic())
        if obs is not None:
            self._publish(obs)

    def _on_command(self, msg: Any) -> None:
        linear, angular = msg.twist.linear, msg.twist.angular
        self.driver.command((float(linear.x), float(linear.y), float(linear.z)),
                            (float(angular.x), float(angular.y), float(angular.z)), time.monotonic())  # fmt: skip

    def _on_stop(self, msg: Any) -> None:
        self.sim.call(setattr, self.driver.gate, "operator_stopped", bool(msg.data))
        self.log.warning("operator stop %s", "pressed: the hand holds until released" if msg.data else "released")

    def _on_episode_event(self, msg: Any) -> None:
        if msg.robot_id != self.robot_id or msg.event == self._reset_done:
            return
        if msg.event != self._reset_request:
            self.log.warning("ignoring episode event %d for %s: not RESET_REQUEST", msg.event, self.robot_id)
            return
        ended = int(msg.episode_id)
        self._publish(self.sim.call(self.driver.reset, ended))  # the new episode's first frame goes out before RESET_DONE
        header = header_msg(self.transport, self.transport.now(), WORLD_FRAME)
        self._episode.publish(self.transport.new("rig_msgs/msg/EpisodeEvent", header=header, robot_id=self.robot_id,
                                                 episode_id=ended, event=self._reset_done))  # fmt: skip
        self.log.info("reset after episode %d done; episode %d starts", ended, self.driver.episode_id)

    def _on_set_goal(self, msg: Any) -> None:
        try:
            goal = self.sim.call(self.driver.set_goal, np.asarray(msg.goal_state, np.float64))
        except ValueError as error:
            self.log.warning("goal state ignored: %s", error)
            return
        self.log.info("goal state set to %s", goal.tolist())
        if msg.publish_goal_image:
            image = self.sim.call(self.driver.goal_image)
            self._goal_image.publish(rgb_to_image(self.transport, image, self.transport.now(), CAMERA_FRAME))

    def _publish(self, obs: Observation) -> None:
        stamp = self.transport.now()
        self._image.publish(rgb_to_image(self.transport, obs.image, stamp, CAMERA_FRAME))
        self._pose.publish(pose_msg(self.transport, obs.state, self.hand_z, stamp))
        self._task_state.publish(task_state_msg(self.transport, obs, self.robot_id, stamp))


def main(argv: Sequence[str] | None = None) -> int:
    """Console script ``rig_sim_sawyer_node [--ros-args ...]``: spin until SIGINT/SIGTERM; 1 for bad parameters."""
    try:
        transport = make_transport(NODE_NAME, argv=sys.argv if argv is None else argv)
    except ValueError as error:  # a malformed --ros-args section
        print(f"{NODE_NAME}: {error}", file=sys.stderr)
        return 1
    sim_thread = SimThread()
    node: SimSawyerNode | None = None
    try:
        node = SimSawyerNode(transport, sim_thread)
        transport.spin()
    except ValueError as error:  # bad parameters
        transport.logger.error("%s", error)
        return 1
    finally:
        transport.shutdown()
        if node is not None:
            sim_thread.call(node.driver.close)
        sim_thread.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
