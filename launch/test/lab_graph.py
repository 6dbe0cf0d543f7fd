"""The RIG graph on several hosts of a `rig_transport.netlab.Lab` (shared by test_multihost.py and
benchmarks/multihost.py): nodes and probes (checker processes) started on a host, and the check that the
trainer's replay log holds every episode the policy published, whole."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np
from graph_params import TINY_TRAINER
from safetensors.numpy import load_file

from rig_transport import probe as probe_script
from rig_transport.netlab import Lab
from rig_transport.testing import NodeProcess, ProbeFile, script_args

FRAMES = "/rig/camera/image_raw"
COMMANDS = "/rig/cmd_ee_velocity"
POSES = "/rig/ee_pose"
TRANSITIONS = "/rig/replay/transitions"
WEIGHTS = "/rig/weights"
POLICY_STATUS = "/rig/policy/status"
TRAINER_STATUS = "/rig/trainer/status"
TOPICS = {
    FRAMES: "sensor_msgs/msg/Image:sensor_data",
    COMMANDS: "geometry_msgs/msg/TwistStamped:command",
    POSES: "geometry_msgs/msg/PoseStamped:sensor_data",
    TRANSITIONS: "rig_msgs/msg/Transition:replay",
    WEIGHTS: "rig_msgs/msg/ModelWeights:latched",
    POLICY_STATUS: "rig_msgs/msg/PolicyStatus:status",
    TRAINER_STATUS: "rig_msgs/msg/TrainerStatus:status",
}
"""What a probe may record, as ``TYPE:QOS`` (rig_transport.probe)."""


class LabGraph:
    """Nodes and probes on the lab's hosts, logging to ``log_dir``; `stop` ends them all (SIGTERM, then SIGKILL)."""

    def __init__(self, lab: Lab, log_dir: Path) -> None:
        self.lab, self.log_dir = lab, log_dir
        self.nodes: list[NodeProcess] = []
        self.probes: list[ProbeFile] = []

    def start(self, role: str, script: str, params: dict[str, Any]) -> NodeProcess:
        """Console script ``script`` on host ``role`` with ``params``."""
        args = self.lab.command(role, script_args(script, params))
        self.nodes.append(NodeProcess(script, params, self.log_dir / f"{role}_{script}.log", args=args))
        return self.nodes[-1]

    def probe(self, role: str, *topics: str) -> ProbeFile:
        """A checker process on host ``role`` recording ``topics``; its records, per topic, as Listeners."""
        path = self.log_dir / f"{role}_probe.jsonl"
        subscriptions = [f"{topic}={TOPICS[topic]}" for topic in topics]
        # Run as a file: `-m` would put the working directory first on sys.path, and in the repository root its
        # rig_transport/ folder (the distribution, not the package) would shadow the installed package.
        args = self.lab.command(role, [sys.executable, probe_script.__file__, str(path), *subscriptions])
        self.nodes.append(NodeProcess("probe", {}, self.log_dir / f"{role}_probe.log", args=args))
        self.probes.append(ProbeFile(path))
        return self.probes[-1]

    def trainer(self, role: str, out_dir: Path, updates_per_step: int = 20) -> NodeProcess:
        """The trainer with a VAE pretrained in seconds (launch/test/graph_params.py's TINY_TRAINER) and weights every
        second; ``updates_per_step`` TD3 updates per transition (more than it does in the few seconds an episode lasts
        on a loaded machine: it has a backlog, and so new weights to publish, while the link is cut)."""
        overrides = f"{TINY_TRAINER};train.updates_per_step={updates_per_step}"
        return self.start(role, "rig_trainer_node", {"out_dir": str(out_dir), "config_overrides": overrides,
                                                     "weights_every_s": 1.0})  # fmt: skip

    def stop(self) -> None:
        for node in reversed(self.nodes):
            with suppress(subprocess.TimeoutExpired):
                node.stop()
        for probe in self.probes:
            probe.stop()


def finished_episodes(transitions: list[dict[str, Any]]) -> dict[int, np.ndarray]:
    """Per episode the policy ended (episode_end seen) among the recorded transitions: its actions, in step order
    (an episode whose steps the recording does not hold 0..n without a gap is left out)."""
    steps: dict[int, dict[int, list[float]]] = defaultdict(dict)
    ended = set()
    for record in transitions:
        steps[record["episode_id"]][record["step"]] = record["action"]
        if record["episode_end"]:
            ended.add(record["episode_id"])
    return {episode: np.asarray([steps[episode][i] for i in range(len(steps[episode]))], np.float32)
            for episode in sorted(ended) if sorted(steps[episode]) == list(range(len(steps[episode])))}  # fmt: skip


def stored_actions(replay_dir: Path) -> list[np.ndarray]:
    """The actions of every episode in the trainer's replay log (one safetensors file per episode)."""
    return [load_file(str(path))["action"] for path in sorted(replay_dir.glob("episode_*.safetensors"))]


def missing_episodes(published: dict[int, np.ndarray], replay_dir: Path) -> list[int]:
    """The published episodes the replay log does not hold with exactly these actions, step for step."""
    stored = stored_actions(replay_dir)
    return [episode for episode, actions in published.items()
            if not any(s.shape == actions.shape and np.array_equal(s, actions) for s in stored)]  # fmt: skip


def xy_spread(poses: list[dict[str, Any]]) -> float:
    """How far the hand moved over recorded poses (largest x or y range, m)."""
    xy = np.array([(p["pose.position.x"], p["pose.position.y"]) for p in poses])
    return float(np.ptp(xy, axis=0).max())
