"""The envelope's fuzz streams (rig_drivers.envelope_fuzz) through the real processes: a DDS peer sends them to the
driver at 100 Hz (NaN, inf and huge values, bursts, sign flips, silences, operator stops, pushes into the box's
faces) while a ROS 1 peer watches what the simulated Intera arm reports: the hand stays in the box, the joints in
their limits and under the envelope's joint speeds, the bad commands are counted; then a reset takes the arm home
and commands move it again."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rig_sawyer_driver.ros1")

from rig_drivers.envelope_fuzz import BOX_TOLERANCE, SPEED_TOLERANCE, STREAMS
from rig_drivers.safety import EnvelopeConfig
from rig_drivers.sawyer_kinematics import NEUTRAL, SawyerKinematics
from rig_sawyer_driver.testing import ArmExtremes, DriverGraph, Ros1Peer, driver_graph, play_fuzz_streams

ROBOT = f"sawyer_fuzz_{os.getpid()}"
PARAMS = {"robot_id": ROBOT, "status_rate_hz": 10.0}  # the envelope's defaults
ENDPOINT, JOINTS = "/robot/limb/right/endpoint_state", "/robot/joint_states"
STREAM_COUNT = 3 * len(STREAMS)
JOINT_SPEED_TOLERANCE = 1e-6
"""Relative: the arm reports the joint velocities it was sent, which the envelope keeps within its fraction."""


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DriverGraph]:
    with driver_graph(Path(tmp_path_factory.mktemp("driver_fuzz")), PARAMS) as graph:
        yield graph


def test_adversarial_streams_keep_the_arm_in_the_envelope(graph: DriverGraph, tmp_path: Path) -> None:
    envelope = EnvelopeConfig()
    watch = Ros1Peer("fuzz_watch", {ENDPOINT: "intera_core_msgs/EndpointState", JOINTS: "sensor_msgs/JointState"},
                     tmp_path / "watch.log")  # fmt: skip
    try:
        for topic in (ENDPOINT, JOINTS):  # watching before the first stream
            watch.listeners[topic].wait_for(lambda msg: True, topic, graph.arm)
        before = graph.status(lambda msg: msg.mode == "ready", "mode ready")
        played = play_fuzz_streams(graph, STREAM_COUNT, seed=2024, ticks=(100, 150))
        after = graph.status(lambda msg: msg.commands_rejected > before.commands_rejected, "rejections counted")
        graph.still()  # the arm has come to rest: the watch has seen everything the streams did
        extremes = ArmExtremes(envelope)
        for msg in watch.listeners[ENDPOINT].clear():
            extremes.add_endpoint_state(msg)
        for msg in watch.listeners[JOINTS].clear():
            extremes.add_joint_state(msg)
    finally:
        watch.close()
    assert played.streams == STREAM_COUNT and played.bad_commands > 0 and played.stop_toggles > 0
    assert extremes.endpoint_states > played.ticks / 2 and extremes.joint_states > played.ticks / 2
    assert extremes.box_excursion <= BOX_TOLERANCE
    assert extremes.joint_limit_excursion < 0
    assert extremes.joint_speed_ratio <= 1 + JOINT_SPEED_TOLERANCE
    assert extremes.hand_speed <= envelope.max_linear_speed * SPEED_TOLERANCE
    # COMMAND is keep-last-1: in a burst only the newest may arrive, so not every bad command sent is received
    assert 0 < after.commands_rejected - before.commands_rejected <= played.bad_commands
    assert graph.driver.alive() and graph.arm.alive()


def test_after_the_streams_the_driver_resets_and_obeys(graph: DriverGraph) -> None:
    graph.set_stop(False)
    graph.status(lambda msg: not msg.operator_stopped, "operator stop released")
    event = type(graph.new("rig_msgs/msg/EpisodeEvent"))
    graph.episodes.clear()
    graph.episode.publish(graph.new("rig_msgs/msg/EpisodeEvent", robot_id=ROBOT, episode_id=1, event=event.RESET_REQUEST))
    graph.episodes.wait_for(lambda msg: msg.robot_id == ROBOT and msg.event == event.RESET_DONE, "RESET_DONE",
                            graph.driver, graph.arm)  # fmt: skip
    assert np.linalg.norm(graph.position() - SawyerKinematics().forward(NEUTRAL)[0]) < 0.005  # home: the default
    before, after = graph.move(0.05, 0.0, seconds=1.0)
    assert after[0] - before[0] > 0.02 and abs(after[1] - before[1]) < 0.005
