"""launch_testing, on a ROS 2 machine: `sim_sawyer.launch.py` runs the simulated graph on rclpy. Frames flow, commands
move the hand, transitions reach the trainer, new weights reach the policy, goal images from an rclpy publisher are
taken or rejected, and every node exits with 0 on shutdown. Without ROS the same graph is tested over DDS
(test_graph_dds.py).

    colcon test --packages-select rig        # or, with the workspace sourced:
    launch_test launch/test/test_sim_sawyer_launch.py
"""

import sys
import tempfile
import time
import unittest
from pathlib import Path

import pytest

pytest.importorskip(
    "launch_testing", reason="needs ROS 2 (launch_testing, rclpy): source /opt/ros/jazzy/setup.bash and the workspace; "
    "without ROS, test_graph_dds.py tests the same graph over Cyclone DDS"
)
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
import numpy as np  # noqa: E402
import rclpy  # noqa: E402
from ament_index_python.packages import get_package_share_directory  # noqa: E402
from geometry_msgs.msg import PoseStamped, TwistStamped  # noqa: E402
from launch import LaunchDescription  # noqa: E402
from launch.actions import IncludeLaunchDescription  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
from rclpy.qos import QoSDurabilityPolicy, QoSProfile, qos_profile_sensor_data  # noqa: E402
from rig_msgs.msg import EpisodeEvent, PolicyStatus, TrainerStatus  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))  # launch_test loads this file by path, not as part of a package
from graph_params import quick_params_file  # noqa: E402

TIMEOUT_S = 180.0
"""Generous limit for any wait (torch imports, discovery on a loaded machine); never an assertion on time."""
RELIABLE = QoSProfile(depth=10)
LATCHED = QoSProfile(depth=1, durability=QoSDurabilityPolicy.TRANSIENT_LOCAL)
ROBOT_ID = "sawyer_from_launch"
"""``robot_id:=``: it must win over the parameter file's policy_node and sim_sawyer_node sections (rcl gives a
file's node section precedence over /** values, where launch_ros writes the overrides of a node without a namespace)."""


@pytest.mark.launch_test
def generate_test_description():
    params_file = quick_params_file(Path(tempfile.mkdtemp(prefix="rig_launch_test_")))
    launch_file = Path(get_package_share_directory("rig")) / "launch" / "sim_sawyer.launch.py"
    return LaunchDescription([
        IncludeLaunchDescription(PythonLaunchDescriptionSource(str(launch_file)),
                                 launch_arguments={"params_file": str(params_file), "robot_id": ROBOT_ID}.items()),
        launch_testing.actions.ReadyToTest(),
    ])  # fmt: skip


class TestSimGraph(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        rclpy.init()
        cls.node = rclpy.create_node("rig_sim_launch_test")

    @classmethod
    def tearDownClass(cls):
        cls.node.destroy_node()
        rclpy.shutdown()

    def collect(self, msg_type, topic, qos, count, predicate=lambda msg: True, what="a message"):
        """The first ``count`` messages on ``topic`` that satisfy ``predicate`` (fails after TIMEOUT_S)."""
        found = []
        subscription = self.node.create_subscription(
            msg_type, topic, lambda msg: found.append(msg) if predicate(msg) else None, qos
        )
        deadline = time.monotonic() + TIMEOUT_S
        try:
            while len(found) < count and time.monotonic() < deadline:
                rclpy.spin_once(self.node, timeout_sec=0.1)
        finally:
            self.node.destroy_subscription(subscription)
        self.assertGreaterEqual(len(found), count, f"timed out waiting for {what} on {topic}")
        return found[:count]

    def test_frames_flow_and_commands_move_the_hand(self):
        (frame,) = self.collect(Image, "/rig/camera/image_raw", qos_profile_sensor_data, 1, what="a camera frame")
        self.assertEqual((frame.width, frame.height, frame.encoding, frame.step), (84, 84, "rgb8", 84 * 3))
        self.collect(TwistStamped, "/rig/cmd_ee_velocity", RELIABLE, 1,
                     lambda m: np.hypot(m.twist.linear.x, m.twist.linear.y) > 0, "a non-zero command")  # fmt: skip
        poses = self.collect(PoseStamped, "/rig/ee_pose", qos_profile_sensor_data, 20, what="hand poses")
        xy = np.array([(p.pose.position.x, p.pose.position.y) for p in poses])
        self.assertGreater(float(np.ptp(xy, axis=0).max()), 0.005)

    def test_robot_id_from_the_launch_argument_reaches_the_policy_and_the_sim_sawyer(self):
        (status,) = self.collect(PolicyStatus, "/rig/policy/status", RELIABLE, 1, what="a policy status")
        self.assertEqual(status.robot_id, ROBOT_ID)
        self.collect(EpisodeEvent, "/rig/episode", RELIABLE, 1,
                     lambda m: m.event == EpisodeEvent.RESET_DONE and m.robot_id == ROBOT_ID,
                     f"the sim Sawyer's RESET_DONE for {ROBOT_ID}")  # fmt: skip

    def test_transitions_reach_the_trainer_and_weights_reach_the_policy(self):
        (trained,) = self.collect(TrainerStatus, "/rig/trainer/status", RELIABLE, 1,
                                  lambda m: m.transitions_received > 0 and m.weights_version >= 2 and m.gradient_steps > 0,
                                  "weights after TD3 updates")  # fmt: skip
        self.assertGreater(trained.replay_size, 0)
        version = trained.weights_version
        (in_use,) = self.collect(PolicyStatus, "/rig/policy/status", RELIABLE, 1, lambda m: m.weights_version >= version,
                                 "the new weights in the policy")  # fmt: skip
        self.assertNotIn("weights rejected", in_use.last_error)

    def test_goal_images_from_an_rclpy_publisher_are_taken_rejected_or_cleared(self):
        goals = self.node.create_publisher(Image, "/rig/goal_image", LATCHED)
        clear = self.node.create_publisher(Header, "/rig/goal_image/clear", RELIABLE)
        try:
            bad = Image(height=10, width=10, encoding="rgb8", step=30, data=bytes(20))
            goals.publish(bad)
            self.collect(PolicyStatus, "/rig/policy/status", RELIABLE, 1,
                         lambda m: m.last_error.startswith("goal image rejected") and "height * step" in m.last_error,
                         "the policy rejecting a goal whose data is shorter than height * step")  # fmt: skip
            rgb = np.full((120, 160, 3), 90, np.uint8)  # any size: the policy resizes it to 84x84
            goals.publish(Image(height=120, width=160, encoding="bgr8", step=160 * 3, data=rgb.tobytes()))
            self.collect(PolicyStatus, "/rig/policy/status", RELIABLE, 1, lambda m: m.mode == "operator_goal",
                         "the policy acting on the operator's goal")  # fmt: skip
            clear.publish(Header(stamp=self.node.get_clock().now().to_msg()))
            self.collect(PolicyStatus, "/rig/policy/status", RELIABLE, 1, lambda m: m.mode == "imagined_goal",
                         "the policy back on imagined goals")  # fmt: skip
        finally:
            self.node.destroy_publisher(goals)
            self.node.destroy_publisher(clear)


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):
    def test_every_node_exits_cleanly(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
