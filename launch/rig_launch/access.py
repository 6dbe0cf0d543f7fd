"""Who may publish and subscribe to what: one DDS Security enclave per node and tool of the graph (`rig keys`).

This table is the one place the permissions come from: only the policy publishes the velocity command the drivers
obey, only the trainer publishes weights, operators read. Every topic named here is one of the README's topics
(`rig_launch.topics.TOPICS`), or the replay acknowledgements; a node that uses a topic its enclave lacks fails to
start under ``ROS_SECURITY_STRATEGY=Enforce``, which the keyed graph test would show.
"""

from __future__ import annotations

from dataclasses import dataclass

from rig_launch.graph import CAMERA, POLICY, SAWYER_DRIVER, SIM_SAWYER, TRAINER

EVERY_RIG_TOPIC = "/rig/*"
REPLAY_ACK = "/rig/replay/ack"
"""The trainer's acknowledgements to the policy (not recorded, so not in the topics table)."""
COMMAND = "/rig/cmd_ee_velocity"
WEIGHTS = "/rig/weights"


@dataclass(frozen=True)
class Access:
    """The ROS topics an enclave may publish and subscribe to (``*`` matches any characters, ``/`` included)."""

    publish: tuple[str, ...] = ()
    subscribe: tuple[str, ...] = ()


_EPISODE, _GOAL = "/rig/episode", "/rig/goal_image"
_STOP = "/rig/driver/stop"
_STATUSES = ("/rig/policy/status", "/rig/trainer/status", "/rig/driver/status")
ACCESS: dict[str, Access] = {
    POLICY.name: Access(
        publish=(COMMAND, "/rig/replay/transitions", _EPISODE, "/rig/policy/status", "/rig/policy/goal_image_model",
                 "/rig/policy/reconstruction", "/rig/policy/strip"),
        subscribe=("/rig/camera/image_raw", _GOAL, f"{_GOAL}/clear", f"{_GOAL}/capture", WEIGHTS, _EPISODE,
                   REPLAY_ACK, "/rig/trainer/status"),
    ),  # fmt: skip
    TRAINER.name: Access(
        publish=(WEIGHTS, "/rig/trainer/status", REPLAY_ACK, "/rig/trainer/vae_samples"),
        subscribe=("/rig/replay/transitions",),
    ),
    SIM_SAWYER.name: Access(
        publish=("/rig/camera/image_raw", "/rig/ee_pose", "/rig/sim/task_state", _EPISODE, _GOAL),
        subscribe=(COMMAND, _EPISODE, "/rig/sim/set_goal_state", _STOP),
    ),
    SAWYER_DRIVER.name: Access(
        publish=("/rig/ee_pose", "/rig/joint_states", "/rig/driver/status", _EPISODE),
        subscribe=(COMMAND, _EPISODE, _STOP),
    ),
    CAMERA.name: Access(publish=("/rig/camera/image_raw",)),
    # the operators' tools: `rig goal`, `rig stop`, `rig up`'s status line, `rig record`, the probe of the tests
    "rig_goal": Access(publish=(_GOAL, f"{_GOAL}/clear", f"{_GOAL}/capture", "/rig/sim/set_goal_state"),
                       subscribe=("/rig/policy/status",)),  # fmt: skip
    "rig_stop": Access(publish=(_STOP,), subscribe=("/rig/driver/status",)),
    "rig_up": Access(subscribe=_STATUSES),
    "rig_record": Access(subscribe=(EVERY_RIG_TOPIC,)),
    "rig_probe": Access(subscribe=(EVERY_RIG_TOPIC,)),
    "operator": Access(subscribe=(EVERY_RIG_TOPIC,)),  # read-only: `ros2 topic echo`, dashboards, Foxglove
}
"""Enclave name (without the leading ``/``: the node's name, see `rig_transport.security`) -> its access."""


def dds_topics(access: Access, node: str) -> tuple[list[str], list[str]]:
    """The DDS topic names an enclave may publish and subscribe to: its ROS topics as ``rt/...``, plus what every
    ROS 2 participant uses (``ros_discovery_info``, ``rt/rosout``, ``rt/parameter_events``) and, for an rclpy node
    of that name, its own parameter services (``rq/<node>/*`` requests in, ``rr/<node>/*`` replies out). The
    operator enclave serves any node's (``ros2`` command-line tools name their nodes at random)."""
    services = "*" if node == "operator" else f"{node}/*"
    publish = ["ros_discovery_info", "rt/rosout", "rt/parameter_events", f"rr/{services}"]
    subscribe = ["ros_discovery_info", "rt/parameter_events", f"rq/{services}"]
    return publish + [f"rt{topic}" for topic in access.publish], subscribe + [f"rt{topic}" for topic in access.subscribe]
