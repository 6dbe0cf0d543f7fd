"""The simulated Sawyer driver as a process, over real DDS: frames and poses flow, velocity commands move the hand,
the watchdog stops it, the reset handshake, bad messages, and goal images of known states.

One node process serves the whole module; every test leaves it running and makes no assumption about its state.
A one-shot request is resent until its answer comes (the node's reader may not have matched ours yet)."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rig_core.envs import SawyerImageTask, make_task
from rig_core.envs.tasks import TASKS
from rig_drivers.sim_driver import episode_seed
from rig_transport import COMMAND, LATCHED, SENSOR_DATA, STATUS, Publisher
from rig_transport.images import image_to_rgb
from rig_transport.testing import TIMEOUT_S, Listener, NodeProcess, TestNode

ROBOT = f"sawyer_sim_{os.getpid()}"  # states and events of other test runs that share the domain are not ours
OTHER_ROBOT = "other_robot"
SEED = 3
PARAMS = {"robot_id": ROBOT, "rate_hz": 20.0, "command_timeout_s": 0.3, "seed": SEED}
SPEC = TASKS["visual-reacher"]
SPEED = 0.1  # m/s: half the fastest the task allows at 20 Hz (5 mm per step)
RESEND_S = 2.0


@dataclass
class Rig:
    """The node process and the test's own DDS peer, with a listener or publisher per topic."""

    node: NodeProcess
    peer: TestNode
    images: Listener
    poses: Listener
    states: Listener
    episodes: Listener
    goal_images: Listener
    cmd: Publisher
    episode: Publisher
    set_goal: Publisher
    stop: Publisher

    def new(self, type_name: str, **fields: Any) -> Any:
        return self.peer.transport.new(type_name, **fields)

    def next_state(self) -> Any:
        return self.states.wait_for(lambda msg: msg.robot_id == ROBOT, "a task state", self.node)

    def command(self, vx: float, vz: float = 0.0) -> None:
        twist = self.new("geometry_msgs/msg/Twist", linear=self.new("geometry_msgs/msg/Vector3", x=vx, z=vz))
        self.cmd.publish(self.new("geometry_msgs/msg/TwistStamped", twist=twist))

    def resend_until(self, send: Callable[[], None], answer: Callable[[], Any | None]) -> Any:
        """Call ``send`` until ``answer`` (which waits up to RESEND_S) returns something."""
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline and self.node.alive():
            send()
            if (got := answer()) is not None:
                return got
        pytest.fail(f"no answer (node alive: {self.node.alive()}); log:\n{self.node.log()}")


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    peer = TestNode("sim_test_peer")
    listen, publish = peer.listen, peer.transport.create_publisher
    images = listen("/rig/camera/image_raw", "sensor_msgs/msg/Image", SENSOR_DATA)
    poses = listen("/rig/ee_pose", "geometry_msgs/msg/PoseStamped", SENSOR_DATA)
    states = listen("/rig/sim/task_state", "rig_msgs/msg/SimTaskState", STATUS)
    episodes = listen("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS)
    goal_images = listen("/rig/goal_image", "sensor_msgs/msg/Image", LATCHED)
    cmd = publish("/rig/cmd_ee_velocity", "geometry_msgs/msg/TwistStamped", COMMAND)
    episode = publish("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS)
    set_goal = publish("/rig/sim/set_goal_state", "rig_msgs/msg/SimGoal", STATUS)
    stop = publish("/rig/driver/stop", "std_msgs/msg/Bool", LATCHED)
    peer.start()
    node = NodeProcess("rig_sim_sawyer_node", PARAMS, Path(tmp_path_factory.mktemp("sim")) / "node.log")
    try:
        yield Rig(node, peer, images, poses, states, episodes, goal_images, cmd, episode, set_goal, stop)
    finally:
        node.stop()
        peer.stop()


@pytest.fixture(scope="module")
def reference() -> Iterator[SawyerImageTask]:
    """The node's task, in this process: what a reset or a goal image should give."""
    task = make_task("visual-reacher", 84)
    yield task
    task.close()


def stamp(msg: Any) -> tuple[int, int]:
    return msg.header.stamp.sec, msg.header.stamp.nanosec


def state_with_pose(rig: Rig) -> tuple[Any, Any]:
    """The next task state that has an ee_pose of the same tick (same stamp); poses are best effort."""
    pose = None
    while True:
        state = rig.next_state()
        if pose is None or stamp(pose) < stamp(state):
            pose = rig.poses.wait_for(functools.partial(stamped_at_or_after, stamp(state)), "an ee_pose", rig.node)
        if stamp(pose) == stamp(state):
            return state, pose


def stamped_at_or_after(key: tuple[int, int], msg: Any) -> bool:
    return stamp(msg) >= key


def assert_pose_matches(state: Any, pose: Any) -> None:
    position, orientation = pose.pose.position, pose.pose.orientation
    assert pose.header.frame_id == "world"
    assert (position.x, position.y, position.z) == (state.state[0], state.state[1], SPEC.hand_z)
    assert (orientation.x, orientation.y, orientation.z, orientation.w) == (0.0, 0.0, 0.0, 1.0)


def test_frames_poses_and_task_states_flow(rig: Rig) -> None:
    image = rig.images.wait_for(lambda _: True, "a camera frame", rig.node)
    assert (image.width, image.height, image.encoding, image.step) == (84, 84, "rgb8", 84 * 3)
    assert image.header.frame_id == "rig_camera" and image_to_rgb(image).shape == (84, 84, 3)
    state, pose = state_with_pose(rig)
    assert_pose_matches(state, pose)
    assert len(state.state) == 2 and len(state.goal_state) == 2 and list(state.distance_names) == ["hand_distance"]
    gap = np.linalg.norm(np.asarray(state.state) - np.asarray(state.goal_state))
    assert list(state.distances) == pytest.approx([gap])


def test_velocity_moves_the_hand_and_the_watchdog_stops_it(rig: Rig) -> None:
    rig.states.clear()
    state = rig.next_state()
    while state.state[0] > 0.0:  # first to the -x half of the box, so a +x move has room
        rig.command(-SPEED)
        state = rig.next_state()
    x0 = state.state[0]
    while state.state[0] < x0 + 0.02:
        rig.command(+SPEED)
        state = rig.next_state()
    rig.command(+SPEED)
    assert_pose_matches(*state_with_pose(rig))  # while moving
    # No more commands: once the last one is older than the timeout, the hand must stop where it is.
    previous, still = rig.next_state().state[0], 0
    while still < 3:
        x = rig.next_state().state[0]
        still, previous = (still + 1 if abs(x - previous) < 1e-4 else 0), x
    later = [rig.next_state().state[0] for _ in range(10)]
    assert max(abs(x - previous) for x in later) < 2e-4
    assert x0 + 0.02 <= previous < SPEC.hand_high[0] - 0.02  # stopped by the watchdog, not by the box


def test_the_operator_stop_holds_the_hand_until_released(rig: Rig) -> None:
    rig.stop.publish(rig.new("std_msgs/msg/Bool", data=True))
    rig.node.wait_for_log("operator stop pressed")
    direction = -1.0 if rig.next_state().state[0] > 0 else 1.0
    held = [rig.next_state().state[0] for _ in range(2)]
    for _ in range(8):
        rig.command(direction * SPEED)
        held.append(rig.next_state().state[0])
    assert max(held) - min(held) < 2e-4
    rig.stop.publish(rig.new("std_msgs/msg/Bool", data=False))
    rig.node.wait_for_log("operator stop released")
    start = rig.next_state().state[0]
    for _ in range(6):
        rig.command(direction * SPEED)
        moved = rig.next_state().state[0]
    assert (moved - start) * direction > 0.01


def test_reset_handshake_answers_with_the_same_ids_and_restarts_the_episode(rig: Rig, reference: SawyerImageTask) -> None:
    episode_id = rig.next_state().episode_id
    event_cls = type(rig.new("rig_msgs/msg/EpisodeEvent"))
    request, done = event_cls.RESET_REQUEST, event_cls.RESET_DONE

    def send() -> None:
        rig.episode.publish(rig.new("rig_msgs/msg/EpisodeEvent", robot_id=OTHER_ROBOT, episode_id=99, event=request))
        rig.episode.publish(rig.new("rig_msgs/msg/EpisodeEvent", robot_id=ROBOT, episode_id=episode_id, event=request))

    def ours_or_other(msg: Any) -> bool:
        return msg.event == done and msg.robot_id in (ROBOT, OTHER_ROBOT)

    answer = rig.resend_until(send, lambda: rig.episodes.poll(ours_or_other, RESEND_S))
    assert (answer.robot_id, answer.episode_id) == (ROBOT, episode_id)  # the other robot's request got no answer
    first = rig.states.wait_for(lambda msg: msg.robot_id == ROBOT and msg.episode_id == episode_id + 1,
                                "the new episode's state", rig.node)  # fmt: skip
    reference.reset(seed=episode_seed(SEED, episode_id + 1))
    assert first.step == 0
    assert np.allclose(first.state, reference.state(), atol=1e-6)  # back at the start this episode's seed gives
    assert np.allclose(first.goal_state, reference.goal_state)


def test_bad_messages_are_logged_and_the_node_keeps_publishing(rig: Rig) -> None:
    def logged(text: str) -> Callable[[], str | None]:
        def check() -> str | None:
            deadline = time.monotonic() + RESEND_S
            while time.monotonic() < deadline:
                if text in (log := rig.node.log()):
                    return log
                time.sleep(0.1)
            return None

        return check

    # One kind at a time: commands are keep-last-1, so a newer command may replace one not yet taken.
    rig.resend_until(lambda: rig.command(float("nan")), logged("non-finite"))
    log = rig.resend_until(lambda: rig.command(0.0, vz=0.3), logged("are ignored"))
    bad_goal = rig.new("rig_msgs/msg/SimGoal", goal_state=[0.1, 0.6, 0.0], publish_goal_image=True)
    rig.resend_until(lambda: rig.set_goal.publish(bad_goal), logged("goal state ignored"))
    assert log.count("are ignored") == 1
    rig.states.clear()
    states = [rig.next_state() for _ in range(3)]
    assert all(len(state.goal_state) == 2 for state in states) and rig.node.alive()


def test_set_goal_state_publishes_the_goal_image_of_that_state(rig: Rig, reference: SawyerImageTask) -> None:
    goal = [0.05, 0.62]
    msg = rig.resend_until(
        lambda: rig.set_goal.publish(rig.new("rig_msgs/msg/SimGoal", goal_state=goal, publish_goal_image=True)),
        lambda: rig.goal_images.poll(lambda _: True, RESEND_S),
    )
    assert (msg.width, msg.height, msg.encoding) == (84, 84, "rgb8")
    assert np.array_equal(image_to_rgb(msg), reference.render_state(np.array(goal)))
    state = rig.states.wait_for(lambda m: m.robot_id == ROBOT and list(m.goal_state) == goal, "a state with the new goal",
                                rig.node)  # fmt: skip
    assert list(state.distances) == pytest.approx([np.linalg.norm(np.asarray(state.state) - goal)])
