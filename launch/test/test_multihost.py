"""The graph across hosts: each host a network namespace with one link to a switch (rig_transport.netlab), real
DDS between them (each process bound to its host's interface, unicast discovery), faults on a link.

* robot host: the MuJoCo Sawyer and the policy, and a probe (checker process) recording what the robot host sees;
  trainer host: the trainer and a probe; operator host: a probe. The trainer's link drops 1 % of its frames each
  way and is capped at 100 Mbit/s: transitions and weights flow. Then that link is cut for CUT_S: the robot host's
  frames and commands keep flowing, the policy keeps acting; once restored, every episode the policy published is in
  the trainer's replay log, action for action, and weights published during the cut reach the policy.
* the policy alone on its host: cutting its link stops the hand (the driver's watchdog); restored, it moves again.

Needs root, `ip netns` and nftables (CI has them); skips naming what is missing."""

from __future__ import annotations

import time

import pytest
from graph_params import TRAINED_POLICY
from lab_graph import (
    COMMANDS,
    FRAMES,
    POLICY_STATUS,
    POSES,
    TRAINER_STATUS,
    TRANSITIONS,
    WEIGHTS,
    LabGraph,
    finished_episodes,
    missing_episodes,
    xy_spread,
)

from rig_transport.netlab import Lab, LabUnavailable
from rig_transport.probe import read_records
from rig_transport.testing import TIMEOUT_S

KNOWN_WEIGHTS_STALL = (
    "known limit: the trainer published no weights during the cut. When the cut comes before the policy acknowledged "
    "the last bundle, Cyclone DDS's reliable writer holds the next write (max_blocking_time is infinite) until the "
    "link is back; the trainer's weights sender thread waits there while training goes on, and the newest bundle "
    "follows once the link is back"
)
"""Marked, not hidden: the test xfails with this reason when the trainer could not publish during the cut."""
MOTION_M = 0.005
"""The hand moves when it covers more than this (m) over 20 poses (2 s at 10 Hz); a held full-speed reacher command
covers 0.2 m. A hand at rest stays under it: the simulated arm settles by up to 2.3 mm after it stopped, in jumps at
the corners of its box (measured over 400 stops from full speed)."""
CUT_S = 6.0
"""How long a link stays cut: under Cyclone DDS's 10 s participant lease, so peers outlive the cut (README)."""


@pytest.fixture
def lab_graph(request, tmp_path):
    """``lab_graph(*roles)``: a lab with those hosts and a LabGraph on it; all stopped and deleted at teardown."""
    made: list[tuple[Lab, LabGraph]] = []

    def make(*roles: str) -> LabGraph:
        try:
            lab = Lab(roles)
        except LabUnavailable as error:
            pytest.skip(str(error))
        made.append((lab, LabGraph(lab, tmp_path)))
        return made[-1][1]

    yield make
    for lab, graph in made:
        graph.stop()
        lab.close()


def wait_until(condition, what: str, *nodes):
    """Poll ``condition`` until it returns something true, and return that (fails after TIMEOUT_S, or at once if a
    node died)."""
    deadline = time.monotonic() + TIMEOUT_S
    while not (value := condition()):
        for node in nodes:
            assert node.alive(), f"{node.log_path.name} exited while waiting for {what}:\n{node.log()}"
        assert time.monotonic() < deadline, f"no {what} within {TIMEOUT_S} s"
        time.sleep(0.2)
    return value


def test_a_lossy_capped_then_cut_trainer_link_leaves_the_robot_running_and_loses_nothing(lab_graph, tmp_path):
    graph = lab_graph("robot", "trainer", "operator")
    graph.lab.set_loss("trainer", 1.0)
    graph.lab.set_rate("trainer", "100mbit")
    robot = graph.probe("robot", FRAMES, COMMANDS, TRANSITIONS, POLICY_STATUS)
    trainer_host = graph.probe("trainer", WEIGHTS, TRAINER_STATUS)
    operator = graph.probe("operator", POLICY_STATUS, TRAINER_STATUS)
    policy_status = robot.listen(POLICY_STATUS)
    trainer_status, seen_by_operator = trainer_host.listen(TRAINER_STATUS), operator.listen(TRAINER_STATUS)
    for probe in (robot, trainer_host, operator):
        probe.start()
    trainer = graph.trainer("trainer", tmp_path / "trainer")
    sim = graph.start("robot", "rig_sim_sawyer_node", {})
    policy = graph.start("robot", "rig_policy_node", {"status_rate_hz": 5.0})
    nodes = (trainer, sim, policy)

    # Over the lossy, capped link: transitions reach the trainer, its weights reach the policy, the operator sees both.
    # Version 4 comes while the trainer works off the TD3 updates its second stored episode owes: it has work to
    # go on with, and weights to publish, during the cut.
    trainer_status.wait_for(lambda m: m["weights_version"] >= 4, "weights trained on transitions", *nodes)
    policy_status.wait_for(lambda m: m["weights_version"] >= 2, "the trainer's weights in the policy", *nodes)
    seen_by_operator.wait_for(lambda m: m["weights_version"] >= 2, "the trainer's status at the operator", *nodes)

    # The trainer's cable is pulled for CUT_S, then plugged in again.
    cut_at = time.time()
    graph.lab.cut("trainer")
    time.sleep(CUT_S)
    restored_at = time.time()
    graph.lab.restore("trainer")
    seen_by_operator.clear()

    # Weights the trainer published in the cut (its own host's probe saw them at once) reach the policy after it
    # (if it published none, the first it publishes after the cut began: see the end of the test).
    in_cut = [w["version"] for w in read_records(trainer_host.path, WEIGHTS) if cut_at < w["t"] < restored_at]
    awaited = max(in_cut, default=0) or wait_until(lambda: next((w["version"] for w in read_records(
        trainer_host.path, WEIGHTS) if w["t"] > cut_at), None), "weights published after the cut began", *nodes)  # fmt: skip
    policy_status.wait_for(lambda m: m["weights_version"] >= awaited, f"weights version {awaited} in the policy", *nodes)
    seen_by_operator.wait_for(lambda m: m["t"] > restored_at, "the trainer's status at the operator again", *nodes)

    # The robot host saw frames and commands all through the cut (its own probe: the operator's view is not needed);
    # the policy kept acting: its transitions of the cut's second half went out step after step.
    def in_window(topic: str) -> list[dict]:
        return [r for r in read_records(robot.path, topic) if cut_at + CUT_S / 2 < r["t"] < restored_at]

    assert in_window(FRAMES), "no camera frame on the robot host in the cut's second half"
    assert in_window(COMMANDS), "no command on the robot host in the cut's second half: the policy stalled"
    assert in_window(TRANSITIONS), "the policy published no transition in the cut's second half"

    # Every episode the policy finished from the one the cut interrupted until one after the restore is stored
    # whole in the trainer's replay log: its actions, step for step.
    interrupted = max(r["episode_id"] for r in read_records(robot.path, TRANSITIONS) if r["t"] < cut_at)

    def episode_after_the_cut_ended() -> bool:
        return any(r["episode_end"] and r["episode_id"] > interrupted for r in read_records(robot.path, TRANSITIONS))

    wait_until(episode_after_the_cut_ended, "an episode after the interrupted one to end", *nodes)
    published = read_records(robot.path, TRANSITIONS)
    expected = {e: a for e, a in finished_episodes(published).items() if e >= interrupted}
    assert len(expected) >= 2, f"episodes {sorted(expected)}: the recording missed some steps"
    replay = tmp_path / "trainer" / "replay"
    deadline = time.monotonic() + TIMEOUT_S
    while (missing := missing_episodes(expected, replay)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not missing, (f"episodes {missing} (of {sorted(expected)}, the cut hit episode {interrupted}) are not in "
                         "the trainer's replay log whole: transitions were lost in the cut")  # fmt: skip
    assert all(node.alive() for node in nodes)
    assert "Traceback" not in trainer.log() + policy.log()
    if not in_cut:  # last, so that every check above holds either way
        pytest.xfail(KNOWN_WEIGHTS_STALL)


def test_cutting_the_policy_link_stops_the_hand_and_restoring_it_moves_it_again(lab_graph):
    graph = lab_graph("robot", "brain")
    robot = graph.probe("robot", POSES, COMMANDS)
    poses = robot.listen(POSES)
    robot.start()
    sim = graph.start("robot", "rig_sim_sawyer_node", {})
    policy = graph.start("brain", "rig_policy_node", {"weights_file": str(TRAINED_POLICY)})
    nodes = (sim, policy)

    def next_poses(count: int) -> list[dict]:
        return [poses.wait_for(lambda m: True, "an ee_pose", *nodes) for _ in range(count)]

    def wait_for_motion(what: str) -> None:
        """Until the hand moved more than MOTION_M over 20 poses in a row."""
        recent = next_poses(20)
        deadline = time.monotonic() + TIMEOUT_S
        while xy_spread(recent) <= MOTION_M:
            assert time.monotonic() < deadline, f"no {what} within {TIMEOUT_S} s"
            recent = [*recent[1:], *next_poses(1)]

    wait_for_motion("motion from the policy's commands (sent from the other host)")
    cut_at = time.time()
    graph.lab.cut("brain")
    still: list[dict] = []
    while len(still) < 10:  # ten poses in a row, received after the cut, without motion: the watchdog stopped the hand
        pose = next_poses(1)[0]
        if pose["t"] > cut_at:
            still = [*still, pose] if not still or xy_spread([still[-1], pose]) < 1e-4 else [pose]
    resting = still + next_poses(10)
    trace = ", ".join(f"{p['t'] - cut_at:.2f} s ({p['pose.position.x']:.4f}, {p['pose.position.y']:.4f})" for p in resting)
    assert xy_spread(resting) <= MOTION_M, f"the hand moved on with its link cut: {trace}"
    graph.lab.restore("brain")
    wait_for_motion("motion once the policy's link is back")
    assert sim.alive() and policy.alive()
