"""`rig goal` as an operator runs it, against real node processes over DDS, in each mode of the policy: idle while
the trainer gathers its VAE images (`rig up sim`), idle while the robot waits for a reset, and practising. It exits
0 exactly when the policy took the request, and 1 with the policy's reason when it did not; it reads the file
before it looks for a policy."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import numpy as np
from graph_params import TRAINED_POLICY

from rig_core.envs import make_task
from rig_core.images import write_rgb
from rig_core.weights import read_weights_file
from rig_transport import SENSOR_DATA, STATUS
from rig_transport.images import rgb_to_image
from rig_transport.scripts import installed_script
from rig_transport.testing import TestNode

RIG = installed_script("rig")
HORIZON = 50  # visual-reacher


def rig_goal(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RIG, "goal", *args], capture_output=True, text=True, timeout=180)


def goal_file(tmp_path: Path, height: int, width: int) -> Path:
    path = tmp_path / f"goal_{width}x{height}.jpg"
    write_rgb(path, np.random.default_rng(0).integers(0, 256, (height, width, 3), np.uint8))
    return path


def in_reach_goal(env, rng: np.random.Generator) -> np.ndarray:
    """A goal state the hand can reach."""
    while env.hand_distance_floor(goal := env.sample_goal_state(rng)) > 0:
        pass
    return goal


def assert_taken(result: subprocess.CompletedProcess, what: str, mode: str) -> None:
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"rig goal: {what}: taken by the policy of ") and f"in mode {mode}" in result.stdout


def test_rig_goal_reads_the_file_before_it_looks_for_a_policy(tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    for path, reason in [(tmp_path / "notes.txt", "not a readable image"), (tmp_path / "nowhere.png", "does not exist")]:
        result = rig_goal(str(path), "--timeout", "60")  # no graph: a policy would be waited for in vain
        assert result.returncode == 1 and result.stderr.count("\n") == 1 and reason in result.stderr, result.stderr
    result = rig_goal(str(goal_file(tmp_path, 30, 40)), "--timeout", "3")
    assert result.returncode == 1 and "no policy status on /rig/policy/status within 3 s" in result.stderr


def test_rig_goal_while_the_trainer_gathers_its_vae_images(test_node: TestNode, start_node, tmp_path):
    """`rig up sim` as a new user starts it: the policy is idle (no weights) for as long as the trainer gathers."""
    statuses = test_node.listen("/rig/policy/status", "rig_msgs/msg/PolicyStatus", STATUS)
    test_node.start()
    up = start_node("rig_up", {}, [RIG, "up", "sim", "--no-progress", "--log-dir", str(tmp_path / "logs"),
                                   "--set", f"trainer_node.out_dir={tmp_path / 'trainer'}"])  # fmt: skip
    statuses.wait_for(lambda m: m.mode == "idle" and m.weights_version == 0 and m.step > 0, "the idle policy acting", up)
    big = goal_file(tmp_path, 1500, 2000)
    assert_taken(rig_goal(str(big)), f"goal image {big} (2000x1500)", "idle (no weights yet")
    assert_taken(rig_goal("--capture"), "capture", "idle")
    assert_taken(rig_goal("--clear"), "clear", "idle")
    log = (tmp_path / "logs" / "policy_node.log").read_text()
    assert "operator goal image set (2000x1500 rgb8)" in log and "operator goal set to the newest camera frame" in log
    assert up.stop(signal.SIGTERM) == 0  # as `docker stop`, systemd or `kill` stop it
    assert "rig up: SIGTERM received, stopping every node" in up.log()
    assert "stopped sim_sawyer_node (0), policy_node (0), trainer_node (0)" in up.log()


def test_rig_goal_while_the_robot_resets_and_the_policys_rejection(test_node: TestNode, start_node, tmp_path):
    """The test is the camera and a driver that never answers the reset request, so the policy waits in its reset."""
    transport = test_node.transport
    statuses = test_node.listen("/rig/policy/status", "rig_msgs/msg/PolicyStatus", STATUS)
    camera = transport.create_publisher("/rig/camera/image_raw", "sensor_msgs/msg/Image", SENSOR_DATA)
    test_node.start()
    policy = start_node("rig_policy_node", {"weights_file": str(TRAINED_POLICY), "rate_hz": 20.0, "status_rate_hz": 5.0})
    statuses.wait_for(lambda m: m.weights_version == read_weights_file(TRAINED_POLICY).version, "the policy", policy)

    result = rig_goal("--capture")  # no camera frame yet: nothing to capture
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "rejected the capture: goal capture failed: no camera frame has arrived yet" in result.stderr
    failed = statuses.wait_for(lambda m: m.last_error.startswith("goal capture failed"), "the error in the status", policy)
    assert not failed.goal_accepted and failed.last_error_stamp.sec > 0

    rng = np.random.default_rng(1)

    def publish_frame() -> None:  # faster than the policy's 20 Hz
        camera.publish(rgb_to_image(transport, rng.integers(0, 256, (84, 84, 3), np.uint8), transport.now(), "rig_camera"))

    transport.create_timer(0.025, publish_frame)
    statuses.wait_for(lambda m: m.mode == "idle" and m.step == HORIZON - 1, "the policy waiting for its reset", policy)
    image = goal_file(tmp_path, 120, 160)
    assert_taken(rig_goal(str(image)), f"goal image {image} (160x120)", "idle (the robot is resetting")
    taken = statuses.wait_for(lambda m: m.goal_accepted and m.goal_request.frame_id == "operator", "the answer", policy)
    assert taken.last_error == "" and taken.last_error_stamp.sec == 0  # the capture's failure is over
    assert_taken(rig_goal("--capture"), "capture", "idle")
    assert_taken(rig_goal("--clear"), "clear", "idle")
    assert policy.alive()


def test_rig_goal_while_the_policy_practises(test_node: TestNode, start_node, tmp_path):
    """Sim + a trained policy acting: the goal image, the current frame, back to imagined goals."""
    statuses = test_node.listen("/rig/policy/status", "rig_msgs/msg/PolicyStatus", STATUS)
    test_node.start()
    sim = start_node("rig_sim_sawyer_node", {})
    policy = start_node("rig_policy_node", {"explore": False, "weights_file": str(TRAINED_POLICY), "status_rate_hz": 5.0})
    statuses.wait_for(lambda m: m.mode == "imagined_goal", "the policy acting on imagined goals", sim, policy)
    image = goal_file(tmp_path, 120, 160)
    # Between two episodes the policy is idle for a moment while the sim resets: the goal is taken all the same.
    result = rig_goal(str(image))
    assert_taken(result, f"goal image {image} (160x120)", "")
    assert "rig goal: warning: goal image looks unlike the VAE's training images" in result.stderr  # it is noise
    statuses.wait_for(lambda m: m.mode == "operator_goal", "the policy acting on the goal image", sim, policy)
    darker = tmp_path / "darker.png"  # a goal photographed under dimmer light: recoloured, and no warning
    env = make_task("visual-reacher", image_size=84, seed=0)
    rng = np.random.default_rng(2)  # a goal in reach (out of reach, the arm is drawn where it never practised)
    goal_state = in_reach_goal(env, rng)
    write_rgb(darker, (env.render_state(goal_state) * 0.75).astype(np.uint8))
    env.close()
    result = rig_goal(str(darker))
    assert_taken(result, f"goal image {darker} (84x84)", "")
    assert "rig goal: goal image aligned to the camera: colour gains" in result.stdout and "warning" not in result.stderr
    assert_taken(rig_goal("--capture"), "capture", "")
    assert_taken(rig_goal("--clear"), "clear", "")
    statuses.wait_for(lambda m: m.mode == "imagined_goal", "the policy back on imagined goals", sim, policy)
    assert policy.alive() and sim.alive()
