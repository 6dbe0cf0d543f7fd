"""The trainer node: topics, timers and parameters wired to an EpisodeAssembler and a Trainer (see README.md)."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rig_core.config import task_config
from rig_core.errors import RigError
from rig_core.weights import WeightsBundle
from rig_trainer_node.assembler import AssembledEpisode, EpisodeAssembler, TransitionError
from rig_trainer_node.dedup import EpisodeKey
from rig_trainer_node.latest_sender import LatestSender
from rig_trainer_node.messages import ModelShape, step_from_msg, weights_msg
from rig_trainer_node.trainer import ACTION_DIM, Trainer, trainer_config
from rig_transport import LATCHED, REPLAY, STATUS, Transport, make_transport
from rig_transport.images import rgb_to_image

NODE_NAME = "trainer_node"
REACK_S = 1.0
"""A stored episode whose copies keep arriving (re-sent by a policy that missed the acknowledgement) is
acknowledged again at most this often."""
DEFAULTS: dict[str, Any] = {
    "task": "visual-reacher",
    "image_size": 84,
    "seed": 0,
    "out_dir": "runs/trainer",
    "weights_every_s": 5.0,
    "status_rate_hz": 1.0,
    "vae_from": "",
    "config_overrides": "",
    "from_bag": "",
}


class TrainerNode:
    """Transitions in; weights and status out; the learning runs in the Trainer's thread."""

    def __init__(self, transport: Transport) -> None:
        self.transport, self.log = transport, transport.logger
        params = transport.declare_parameters(DEFAULTS)
        if params["weights_every_s"] <= 0 or params["status_rate_hz"] <= 0:
            raise ValueError("weights_every_s and status_rate_hz must be > 0")
        config = trainer_config(task_config(params["task"]), params["seed"], params["image_size"],
                                params["config_overrides"], params["vae_from"])  # fmt: skip
        self.transitions_received = 0
        self.last_error = ""
        self._weights = transport.create_publisher("/rig/weights", "rig_msgs/msg/ModelWeights", LATCHED)
        self._status = transport.create_publisher("/rig/trainer/status", "rig_msgs/msg/TrainerStatus", STATUS)
        self._ack = transport.create_publisher("/rig/replay/ack", "rig_msgs/msg/ReplayAck", REPLAY)
        self._acked_at: dict[EpisodeKey, float] = {}  # duplicates acknowledged again, when
        self._samples = transport.create_publisher("/rig/trainer/vae_samples", "sensor_msgs/msg/Image", LATCHED)
        # Weights and VAE grids are large: sent from threads of their own, so a write waiting on a cut link never
        # stalls training (the newest one goes out when the link is back)
        self._weights_sender = LatestSender(self._weights.publish, self._error, "weights sender")
        self._samples_sender = LatestSender(self._samples.publish, self._error, "vae samples sender")
        self.trainer = Trainer(config, Path(params["out_dir"]), self._publish_weights, self.log, self._error,
                               params["weights_every_s"], 1.0 / params["status_rate_hz"], on_stored=self._on_stored,
                               publish_samples=self._publish_samples)  # fmt: skip
        config = self.trainer.config  # a resumed run keeps its saved config
        self.shape = ModelShape(config.vae.image_size, ACTION_DIM, config.vae.latent_dim)
        self.assembler = EpisodeAssembler()
        if params["from_bag"]:
            self._preload(Path(params["from_bag"]))
        transport.create_subscription("/rig/replay/transitions", "rig_msgs/msg/Transition", REPLAY, self._on_transition)
        transport.create_timer(1.0 / params["status_rate_hz"], self._publish_status)
        self.log.info("task %s, %dx%d images, out_dir %s; %s", config.task, self.shape.image_size, self.shape.image_size,
                      params["out_dir"], "VAE pretrained" if self.trainer.pretrained else
                      f"gathering {config.vae.num_images} random-exploration images for the VAE")  # fmt: skip
        self.trainer.start()

    def _preload(self, bag: Path) -> None:
        """Train on a recording's transitions before taking live ones (a new run only: a resumed one holds them)."""
        counters = self.trainer.learner.counters
        if counters.env_steps or self.trainer.images.count:
            self.log.warning("from_bag %s ignored: out_dir %s holds a run already (%d env steps, %d VAE images)",
                             bag, self.trainer.out, counters.env_steps, self.trainer.images.count)  # fmt: skip
            return
        # Imported here: reading bags needs rosbags and cyclonedds (rig_transport's PyPI packages), which a ROS 2 build
        # running the rclpy backend may lack; only a node given from_bag needs them.
        from rig_trainer_node.from_bag import preload

        preload(self.trainer, bag, self.log)

    def _error(self, message: str) -> None:
        """Record a problem for the status (any thread)."""
        self.last_error = message

    def _on_transition(self, msg: Any) -> None:
        key = EpisodeKey(str(msg.robot_id), str(msg.session_id), int(msg.episode_id))
        if key in self.trainer.ledger:  # a copy of an episode stored already: dropped, acknowledged again
            if time.monotonic() - self._acked_at.get(key, -math.inf) >= REACK_S:
                self._acked_at = {k: at for k, at in self._acked_at.items() if time.monotonic() - at < REACK_S}
                self._acked_at[key] = time.monotonic()
                self._publish_ack(key, 0, duplicate=True)
            return
        if key in self.trainer.pending:  # assembled already: stored soon, then acknowledged
            return
        try:
            result = self.assembler.add(step_from_msg(msg, self.shape))
        except TransitionError as error:
            message = f"transition (robot {msg.robot_id!r}, episode {msg.episode_id}, step {msg.step}) rejected: {error}"
            self.log.warning("%s", message)
            self._error(message)
            return
        if result.note:
            self.log.warning("%s", result.note)
        if result.accepted:
            self.transitions_received += 1
        if result.episode is not None:
            self.trainer.submit(result.episode)

    def _on_stored(self, episode: AssembledEpisode) -> None:
        """The training thread stored an episode durably: the policy may forget it."""
        self._publish_ack(episode.key, len(episode), duplicate=False)

    def _publish_ack(self, key: EpisodeKey, transitions: int, duplicate: bool) -> None:
        header = self.transport.new("std_msgs/msg/Header", stamp=self.transport.now())
        self._ack.publish(self.transport.new("rig_msgs/msg/ReplayAck", header=header, robot_id=key.robot_id,
                                             session_id=key.session_id, episode_id=key.episode_id,
                                             transitions=transitions, duplicate=duplicate))  # fmt: skip

    def _publish_weights(self, bundle: WeightsBundle) -> None:
        self._weights_sender.put(weights_msg(self.transport, bundle, self.transport.now()))

    def _publish_samples(self, grid: np.ndarray) -> None:
        self._samples_sender.put(rgb_to_image(self.transport, grid, self.transport.now(), ""))

    def close(self, timeout_s: float = 5.0) -> None:
        """Send the weights and grid still waiting (after the trainer stopped)."""
        self._weights_sender.close(timeout_s)
        self._samples_sender.close(timeout_s)

    def _publish_status(self) -> None:
        progress = self.trainer.progress
        header = self.transport.new("std_msgs/msg/Header", stamp=self.transport.now())
        self._status.publish(self.transport.new(
            "rig_msgs/msg/TrainerStatus", header=header, transitions_received=self.transitions_received,
            replay_size=progress.replay_size, gradient_steps=progress.gradient_steps, vae_steps=progress.vae_steps,
            weights_version=progress.weights_version, critic_loss=progress.critic_loss, actor_loss=progress.actor_loss,
            vae_loss=progress.vae_loss, last_error=self.last_error,
        ))  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Console script ``rig_trainer_node [--ros-args ...]``: train until SIGINT/SIGTERM, then checkpoint."""
    try:
        transport = make_transport(NODE_NAME, argv=sys.argv if argv is None else argv)
    except ValueError as error:  # a malformed --ros-args section
        print(f"{NODE_NAME}: {error}", file=sys.stderr)
        return 1
    node = None
    try:
        node = TrainerNode(transport)
        transport.spin()
    except (RigError, ValueError) as error:  # bad parameters, an unreadable checkpoint
        transport.logger.error("%s", error)
        return 1
    finally:
        if node is not None:
            node.trainer.stop()
            node.close()
        transport.shutdown()
    return 0
