"""`rig up real --robot-host HOST:PORT` end to end: a real rosmaster on a free port, the simulated Intera arm
(`rig_sim_intera_arm`, the robot's own ROS 1 topics) standing in for the Sawyer, and the whole graph over DDS with
a camera reading an image folder. The driver reports ready, episodes end in a completed RESET handshake, the hand
stays in the workspace box, `rig stop` holds the arm and `rig stop --release` lets it go, and Ctrl-C stops every node.
Skipped, with the apt packages to install, where ROS 1 (rospy, rosmaster) is missing."""

from __future__ import annotations

import signal
import subprocess

import numpy as np
import pytest
from graph_params import TINY_TRAINER
from rig_sawyer_driver.testing import RosMaster, require_ros1, ros1_env

from rig_core.images import write_rgb
from rig_launch.graph import DEFAULT_PARAMS_FILE, SAWYER_DRIVER
from rig_transport import SENSOR_DATA, STATUS
from rig_transport.parameters import load_parameter_file
from rig_transport.scripts import installed_script
from rig_transport.testing import TestNode

require_ros1()
__all__ = ["ros1_env"]
RIG = installed_script("rig")
BOX_SLACK_M = 0.01
"""How far past a face of the box the hand may be seen: one control tick at the speed limit is 2 mm."""
pytestmark = pytest.mark.slow


def test_rig_up_real_drives_the_simulated_intera_arm(test_node: TestNode, start_node, ros1_env: RosMaster, tmp_path):
    statuses = test_node.listen("/rig/driver/status", "rig_msgs/msg/DriverStatus", STATUS)
    episodes = test_node.listen("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS)
    poses = test_node.listen("/rig/ee_pose", "geometry_msgs/msg/PoseStamped", SENSOR_DATA)
    test_node.start()
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(3):
        write_rgb(frames / f"{i}.png", np.random.default_rng(i).integers(0, 256, (120, 160, 3), np.uint8))
    arm = start_node("rig_sim_intera_arm", {}, [installed_script("rig_sim_intera_arm", "rig_sawyer_driver")])
    up = start_node("rig_up", {}, [
        RIG, "up", "real", "--robot-host", f"127.0.0.1:{ros1_env.port}", "--no-progress",
        "--log-dir", str(tmp_path / "logs"), "--set", f"camera_node.source={frames}",
        "--set", f"trainer_node.out_dir={tmp_path / 'trainer'}",
        "--set", f'trainer_node.config_overrides="{TINY_TRAINER}"'])  # fmt: skip

    ready = statuses.wait_for(lambda m: m.mode == "ready", "the driver ready", up, arm)
    assert ready.robot_id == "sawyer" and ready.robot_enabled and not ready.robot_stopped
    done_cls = type(test_node.transport.new("rig_msgs/msg/EpisodeEvent"))
    done = episodes.wait_for(lambda m: m.event == done_cls.RESET_DONE, "a completed reset handshake", up, arm)
    assert done.robot_id == "sawyer"
    moving = statuses.wait_for(lambda m: m.commands_accepted > 0 and m.command_rate_hz > 0, "commands streaming", up)
    assert moving.commands_rejected == 0

    config = load_parameter_file(DEFAULT_PARAMS_FILE, SAWYER_DRIVER.name)
    low, high = np.array(config["envelope.box_low"]), np.array(config["envelope.box_high"])
    seen = [poses.wait_for(lambda m: True, "a hand pose", up) for _ in range(100)]
    xyz = np.array([(p.pose.position.x, p.pose.position.y, p.pose.position.z) for p in seen])
    assert np.all(xyz >= low - BOX_SLACK_M) and np.all(xyz <= high + BOX_SLACK_M), xyz.min(0).tolist() + xyz.max(0).tolist()

    def rig_stop(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([RIG, "stop", *args], capture_output=True, text=True, timeout=120)

    result = rig_stop()
    assert result.returncode == 0 and "sawyer: stopped" in result.stdout, result.stderr
    held = statuses.wait_for(lambda m: m.operator_stopped, "the operator stop in the status", up)
    statuses.wait_for(lambda m: m.hold == "operator_stop", "the arm held by the operator stop", up)
    assert held.mode in ("ready", "resetting")
    result = rig_stop("--release", "--robot-id", "sawyer")
    assert result.returncode == 0 and "sawyer: released" in result.stdout, result.stderr
    statuses.wait_for(lambda m: not m.operator_stopped and m.hold != "operator_stop", "the arm released", up)
    result = rig_stop("--robot-id", "another_robot", "--timeout", "3")
    assert result.returncode == 1 and "no driver of another_robot confirmed" in result.stderr

    assert up.stop(signal.SIGINT) == 0, up.log()
    assert "stopped camera_node (0), policy_node (0), trainer_node (0), sawyer_driver (0)" in up.log()
    assert arm.alive()
