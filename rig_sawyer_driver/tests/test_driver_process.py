"""The driver as a real process between a real rosmaster with the simulated Intera arm (ROS 1) and a DDS peer (ROS 2):
commands move the hand the right way, the reset reaches home, silence stops the arm, the operator stop holds it,
bad commands are counted, a restarted rosmaster is survived, and a killed driver leaves the arm holding still."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("rig_sawyer_driver.ros1")

from rig_drivers.sawyer_kinematics import NEUTRAL, SawyerKinematics
from rig_sawyer_driver.testing import Ros1Peer, RosMaster, free_port
from rig_transport import COMMAND, LATCHED, SENSOR_DATA, STATUS, Publisher
from rig_transport.testing import Listener, NodeProcess, TestNode, isolated_dds_env

ROBOT = f"sawyer_{os.getpid()}"
HOME = [0.2, -1.0, 0.1, 1.9, -0.1, 0.7, 3.0]
PARAMS = {"robot_id": ROBOT, "control.home": HOME, "status_rate_hz": 10.0, "envelope.command_timeout_s": 0.3}
SPEED = 0.05  # m/s


@dataclass
class Graph:
    master: RosMaster
    arm: NodeProcess
    driver: NodeProcess
    peer: TestNode
    poses: Listener
    statuses: Listener
    episodes: Listener
    cmd: Publisher
    stop: Publisher
    episode: Publisher

    def new(self, type_name: str, **fields: Any) -> Any:
        return self.peer.transport.new(type_name, **fields)

    def command(self, x: float, y: float = 0.0, z: float = 0.0) -> None:
        linear = self.new("geometry_msgs/msg/Vector3", x=x, y=y, z=z)
        self.cmd.publish(self.new("geometry_msgs/msg/TwistStamped", twist=self.new("geometry_msgs/msg/Twist", linear=linear)))

    def status(self, predicate: Any = lambda msg: True, what: str = "a driver status") -> Any:
        """The next status taken after this call that satisfies ``predicate`` (statuses come at 10 Hz)."""
        self.statuses.clear()
        return self.statuses.wait_for(lambda msg: msg.robot_id == ROBOT and predicate(msg), what, self.driver, self.arm)

    def position(self) -> np.ndarray:
        self.poses.clear()
        pose = self.poses.wait_for(lambda msg: True, "an ee_pose", self.driver, self.arm).pose.position
        return np.array([pose.x, pose.y, pose.z])

    def move(self, x: float, y: float, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        """Command (x, y) at 10 Hz for ``seconds`` (paced by the driver's 10 Hz status); hand before and after."""
        before = self.position()
        for _ in range(int(seconds * 10)):
            self.command(x, y)
            self.status()
        return before, self.position()

    def still(self) -> np.ndarray:
        """The hand's position once it has stopped (three statuses in a row within 0.1 mm)."""
        previous, calm = self.position(), 0
        while calm < 3:
            self.status()
            now = self.position()
            calm, previous = (calm + 1 if np.linalg.norm(now - previous) < 1e-4 else 0), now
        return previous


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Graph]:
    logs = Path(tmp_path_factory.mktemp("driver"))
    with isolated_dds_env(), pytest.MonkeyPatch.context() as env:
        master = RosMaster(free_port(), logs / "rosmaster.log")
        for name, value in (("ROS_MASTER_URI", master.uri), ("ROS_HOSTNAME", "127.0.0.1"), ("ROS_HOME", str(logs)),
                            ("ROS_LOG_DIR", str(logs / "ros")), ("PYTHONUNBUFFERED", "1")):  # fmt: skip
            env.setenv(name, value)
        master.start()
        peer = TestNode("driver_test_peer")
        listen, publish = peer.listen, peer.transport.create_publisher
        poses = listen("/rig/ee_pose", "geometry_msgs/msg/PoseStamped", SENSOR_DATA)
        statuses = listen("/rig/driver/status", "rig_msgs/msg/DriverStatus", STATUS)
        episodes = listen("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS)
        cmd = publish("/rig/cmd_ee_velocity", "geometry_msgs/msg/TwistStamped", COMMAND)
        stop = publish("/rig/driver/stop", "std_msgs/msg/Bool", LATCHED)
        episode = publish("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS)
        peer.start()
        arm = NodeProcess("", {}, logs / "arm.log", args=[str(Path(sys.executable).parent / "rig_sim_intera_arm")])
        driver = NodeProcess("rig_sawyer_driver", PARAMS, logs / "driver.log")
        try:
            yield Graph(master, arm, driver, peer, poses, statuses, episodes, cmd, stop, episode)
        finally:
            driver.stop()
            arm.stop()
            peer.stop()
            master.kill()


def test_the_driver_enables_the_robot_and_reports_the_hand_pose(graph: Graph) -> None:
    status = graph.status(lambda msg: msg.mode == "ready", "mode ready")
    assert status.robot_enabled and not status.robot_stopped and status.hold == "no_command"
    assert status.command_rate_hz > 0  # zeros stream while nothing is commanded (the rate: benchmarks/driver.md)
    position = graph.position()
    assert np.allclose(position, SawyerKinematics().forward(NEUTRAL)[0], atol=1e-3)  # the arm starts at neutral


def test_commands_move_the_hand_the_right_way_in_its_plane(graph: Graph) -> None:
    before, after = graph.move(SPEED, 0.0, 1.5)
    moved = after - before
    assert moved[0] > 0.03 and abs(moved[1]) < 0.1 * moved[0]
    assert abs(moved[2]) < 0.002  # height held
    before, after = graph.move(0.0, -SPEED, 1.0)
    moved = after - before
    assert moved[1] < -0.02 and abs(moved[0]) < 0.1 * abs(moved[1]) and abs(moved[2]) < 0.002


def test_silence_stops_the_arm(graph: Graph) -> None:
    graph.move(SPEED, SPEED, 0.5)
    held = graph.still()
    assert graph.status().hold == "watchdog"
    for _ in range(5):
        graph.status()
    assert np.linalg.norm(graph.position() - held) < 2e-4


def test_the_operator_stop_holds_the_arm_until_released(graph: Graph) -> None:
    graph.stop.publish(graph.new("std_msgs/msg/Bool", data=True))
    graph.status(lambda msg: msg.operator_stopped, "operator_stopped")
    before, after = graph.move(-SPEED, 0.0, 1.0)
    assert np.linalg.norm(after - before) < 2e-4
    assert graph.status().hold == "operator_stop"
    graph.stop.publish(graph.new("std_msgs/msg/Bool", data=False))
    graph.status(lambda msg: not msg.operator_stopped, "operator stop released")
    before, after = graph.move(-SPEED, 0.0, 1.0)
    assert after[0] - before[0] < -0.02


def test_bad_commands_are_rejected_counted_and_stop_the_arm(graph: Graph) -> None:
    rejected = graph.status().commands_rejected
    for count, bad in enumerate((float("nan"), float("inf"), 1e9), start=1):
        graph.command(bad, 0.0)  # one at a time: commands are keep-last-1, a newer one may replace an older
        status = graph.status(lambda msg, n=count: msg.commands_rejected >= rejected + n, f"rejection {count}")
    assert status.hold == "rejected" and "rejected a velocity command" in status.last_error
    assert graph.driver.alive()


def test_reset_reaches_home_before_it_answers(graph: Graph) -> None:
    graph.move(SPEED, SPEED, 1.0)
    request, done = (type(graph.new("rig_msgs/msg/EpisodeEvent")).RESET_REQUEST,
                     type(graph.new("rig_msgs/msg/EpisodeEvent")).RESET_DONE)  # fmt: skip
    graph.episodes.clear()
    graph.episode.publish(graph.new("rig_msgs/msg/EpisodeEvent", robot_id=ROBOT, episode_id=7, event=request))
    graph.status(lambda msg: msg.mode == "resetting", "mode resetting")
    answer = graph.episodes.wait_for(lambda msg: msg.robot_id == ROBOT and msg.event == done, "RESET_DONE",
                                     graph.driver, graph.arm)  # fmt: skip
    assert answer.episode_id == 7
    home_position = SawyerKinematics().forward(np.array(HOME))[0]
    assert np.linalg.norm(graph.position() - home_position) < 0.005
    assert graph.status().mode == "ready"


def test_a_restarted_rosmaster_is_survived(graph: Graph) -> None:
    graph.master.kill()
    graph.master.start()
    graph.driver.wait_for_log("ROS master restarted")
    before, after = graph.move(0.0, SPEED, 1.5)
    assert after[1] - before[1] > 0.03


def test_a_killed_driver_leaves_the_arm_holding_still(graph: Graph, tmp_path: Path) -> None:
    watch = Ros1Peer("joint_watch", {"/robot/joint_states": "sensor_msgs/JointState"}, tmp_path / "watch.log")
    states = watch.listeners["/robot/joint_states"]
    try:
        for _ in range(5):
            graph.command(0.0, -SPEED)
            graph.status()
        assert np.any(states.wait_for(lambda msg: True, "joint states", graph.arm)["velocity"])  # moving
        graph.driver.kill()
        held = states.wait_for(lambda msg: not any(msg["velocity"]), "the arm holding (its own command timeout)",
                               graph.arm)  # fmt: skip
        later = [states.wait_for(lambda msg: True, "joint states", graph.arm) for _ in range(50)]  # 0.5 s at 100 Hz
        assert all(msg["position"] == held["position"] and not any(msg["velocity"]) for msg in later)
    finally:
        watch.close()
