"""The graph's topics (the README's ROS 2 topics table), with the QoS their publishers offer: what is recorded."""

from __future__ import annotations

from dataclasses import dataclass

from rig_transport import COMMAND, LATCHED, REPLAY, SENSOR_DATA, STATUS, QoSProfile


@dataclass(frozen=True)
class TopicSpec:
    """A topic: name, ROS type and the QoS its publishers offer."""

    name: str
    type_name: str
    qos: QoSProfile


TOPICS = {
    spec.name: spec
    for spec in (
        TopicSpec("/rig/camera/image_raw", "sensor_msgs/msg/Image", SENSOR_DATA),
        TopicSpec("/rig/goal_image", "sensor_msgs/msg/Image", LATCHED),
        TopicSpec("/rig/cmd_ee_velocity", "geometry_msgs/msg/TwistStamped", COMMAND),
        TopicSpec("/rig/ee_pose", "geometry_msgs/msg/PoseStamped", SENSOR_DATA),
        TopicSpec("/rig/joint_states", "sensor_msgs/msg/JointState", SENSOR_DATA),
        TopicSpec("/rig/driver/status", "rig_msgs/msg/DriverStatus", STATUS),
        TopicSpec("/rig/driver/stop", "std_msgs/msg/Bool", LATCHED),
        TopicSpec("/rig/replay/transitions", "rig_msgs/msg/Transition", REPLAY),
        TopicSpec("/rig/replay/ack", "rig_msgs/msg/ReplayAck", REPLAY),
        TopicSpec("/rig/weights", "rig_msgs/msg/ModelWeights", LATCHED),
        TopicSpec("/rig/policy/status", "rig_msgs/msg/PolicyStatus", STATUS),
        TopicSpec("/rig/trainer/status", "rig_msgs/msg/TrainerStatus", STATUS),
        TopicSpec("/rig/goal_image/clear", "std_msgs/msg/Header", STATUS),
        TopicSpec("/rig/goal_image/capture", "std_msgs/msg/Header", STATUS),
        TopicSpec("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS),
        TopicSpec("/rig/sim/task_state", "rig_msgs/msg/SimTaskState", STATUS),
        TopicSpec("/rig/sim/set_goal_state", "rig_msgs/msg/SimGoal", STATUS),
        TopicSpec("/rig/policy/goal_image_model", "sensor_msgs/msg/Image", COMMAND),
        TopicSpec("/rig/policy/reconstruction", "sensor_msgs/msg/Image", COMMAND),
        TopicSpec("/rig/policy/strip", "sensor_msgs/msg/Image", COMMAND),
        TopicSpec("/rig/trainer/vae_samples", "sensor_msgs/msg/Image", LATCHED),
    )
}
"""The README's ROS 2 topics table: every topic of the graph, with the QoS its publishers offer."""


def ros2_bag_record_command(out: str) -> list[str]:
    """``ros2 bag record`` of every RIG topic into ``out`` (rosbag2's own timestamped name when empty), MCAP storage:
    the launch files' ``record:=true`` (on a ROS 2 machine rosbag2 is the recorder; `rig record` writes the same)."""
    return ["ros2", "bag", "record", "-s", "mcap", *(["-o", out] if out else []), *TOPICS]
