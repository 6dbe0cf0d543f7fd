"""The driver as a real process between a real rosmaster with the simulated Intera arm (ROS 1) and a DDS peer (ROS 2):
commands move the hand the right way, the reset reaches home, silence stops the arm, the operator stop holds it,
bad commands are counted, a restarted rosmaster is survived, and a killed driver leaves the arm holding still."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rig_sawyer_driver.ros1")

from rig_drivers.sawyer_kinematics import NEUTRAL, SawyerKinematics
from rig_sawyer_driver.testing import DriverGraph, Ros1Peer, driver_graph

ROBOT = f"sawyer_{os.getpid()}"
HOME = [0.2, -1.0, 0.1, 1.9, -0.1, 0.7, 3.0]
PARAMS = {"robot_id": ROBOT, "control.home": HOME, "status_rate_hz": 10.0, "envelope.command_timeout_s": 0.3}
SPEED = 0.05  # m/s


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DriverGraph]:
    with driver_graph(Path(tmp_path_factory.mktemp("driver")), PARAMS) as graph:
        yield graph


def test_the_driver_enables_the_robot_and_reports_the_hand_pose(graph: DriverGraph) -> None:
    status = graph.status(lambda msg: msg.mode == "ready", "mode ready")
    assert status.robot_enabled and not status.robot_stopped and status.hold == "no_command"
    assert status.command_rate_hz > 0  # zeros stream while nothing is commanded (the rate: benchmarks/driver.md)
    position = graph.position()
    assert np.allclose(position, SawyerKinematics().forward(NEUTRAL)[0], atol=1e-3)  # the arm starts at neutral


def test_commands_move_the_hand_the_right_way_in_its_plane(graph: DriverGraph) -> None:
    before, after = graph.move(SPEED, 0.0, 1.5)
    moved = after - before
    assert moved[0] > 0.03 and abs(moved[1]) < 0.1 * moved[0]
    assert abs(moved[2]) < 0.002  # height held
    before, after = graph.move(0.0, -SPEED, 1.0)
    moved = after - before
    assert moved[1] < -0.02 and abs(moved[0]) < 0.1 * abs(moved[1]) and abs(moved[2]) < 0.002


def test_silence_stops_the_arm(graph: DriverGraph) -> None:
    graph.move(SPEED, SPEED, 0.5)
    held = graph.still()
    assert graph.status().hold == "watchdog"
    for _ in range(5):
        graph.status()
    assert np.linalg.norm(graph.position() - held) < 2e-4


def test_the_operator_stop_holds_the_arm_until_released(graph: DriverGraph) -> None:
    graph.stop.publish(graph.new("std_msgs/msg/Bool", data=True))
    graph.status(lambda msg: msg.operator_stopped, "operator_stopped")
    before, after = graph.move(-SPEED, 0.0, 1.0)
    assert np.linalg.norm(after - before) < 2e-4
    assert graph.status().hold == "operator_stop"
    graph.stop.publish(graph.new("std_msgs/msg/Bool", data=False))
    graph.status(lambda msg: not msg.operator_stopped, "operator stop released")
    before, after = graph.move(-SPEED, 0.0, 1.0)
    assert after[0] - before[0] < -0.02


def test_bad_commands_are_rejected_counted_and_stop_the_arm(graph: DriverGraph) -> None:
    rejected = graph.status().commands_rejected
    for count, bad in enumerate((float("nan"), float("inf"), 1e9), start=1):
        graph.command(bad, 0.0)  # one at a time: commands are keep-last-1, a newer one may replace an older
        status = graph.status(lambda msg, n=count: msg.commands_rejected >= rejected + n, f"rejection {count}")
    assert status.hold == "rejected" and "rejected a velocity command" in status.last_error
    assert graph.driver.alive()


def test_reset_reaches_home_before_it_answers(graph: DriverGraph) -> None:
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


def test_a_restarted_rosmaster_is_survived(graph: DriverGraph) -> None:
    graph.master.kill()
    graph.master.start()
    graph.driver.wait_for_log("ROS master restarted")
    before, after = graph.move(0.0, SPEED, 1.5)
    assert after[1] - before[1] > 0.03


def test_a_killed_driver_leaves_the_arm_holding_still(graph: DriverGraph, tmp_path: Path) -> None:
    watch = Ros1Peer("joint_watch", {"/robot/joint_states": "sensor_msgs/JointState"}, tmp_path / "watch.log")
    states = watch.listeners["/robot/joint_states"]
    try:
        for _ in range(5):
            graph.command(0.0, -SPEED)
            graph.status()
        states.wait_for(lambda msg: any(msg["velocity"]), "the arm moving", graph.arm)
        graph.driver.kill()
        states.clear()  # only joint states from after the kill
        held = states.wait_for(lambda msg: not any(msg["velocity"]), "the arm holding (its own command timeout)",
                               graph.arm)  # fmt: skip
        later = [states.wait_for(lambda msg: True, "joint states", graph.arm) for _ in range(50)]  # 0.5 s at 100 Hz
        assert all(msg["position"] == held["position"] and not any(msg["velocity"]) for msg in later)
    finally:
        watch.close()
