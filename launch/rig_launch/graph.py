"""The node graphs, one description shared by the ROS launch files and by `rig up` (so the two never differ).

Every node reads its parameters from one ROS 2 parameter file (`config/rig_params.yaml` by default): the
rclpy backend through rcl, the DDS backend through `rig_transport.parameters`, with the same sections.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_PARAMS_FILE = Path(__file__).parent / "config" / "rig_params.yaml"


@dataclass(frozen=True)
class NodeSpec:
    """One node: its ROS package, console script (executable) and node name (its parameter file section)."""

    package: str
    executable: str
    name: str


SIM_SAWYER = NodeSpec("rig_drivers", "rig_sim_sawyer_node", "sim_sawyer_node")
CAMERA = NodeSpec("rig_drivers", "rig_camera_node", "camera_node")
POLICY = NodeSpec("rig_policy_node", "rig_policy_node", "policy_node")
TRAINER = NodeSpec("rig_trainer_node", "rig_trainer_node", "trainer_node")

GRAPHS: dict[str, tuple[NodeSpec, ...]] = {
    # The MuJoCo Sawyer renders /rig/camera/image_raw itself, takes /rig/cmd_ee_velocity and answers resets.
    "sim": (SIM_SAWYER, POLICY, TRAINER),
    # A USB camera; the Sawyer driver (Intera) is not part of this graph yet: it joins on the driver's topics
    # (/rig/cmd_ee_velocity in, /rig/ee_pose out, the /rig/episode reset handshake).
    "real": (CAMERA, POLICY, TRAINER),
}
