"""Learning from a recording: the rig_msgs/Transition messages of a bag (`rig record`) into the trainer.

The bag's transitions go through the trainer node's own path for live ones (`step_from_msg` validation, the
EpisodeAssembler, `Trainer.learn_from`), so a run trained from a bag is the run the trainer node would have trained
on that stream: its first episodes (until ``vae.num_images`` images) pretrain the VAE, or with ``train.vae_from`` a
pretrained VAE is loaded and every episode fills the replay buffer; each episode then owes its TD3 updates.
Used by ``rig train --from-bag DIR`` and by the trainer node's ``from_bag`` parameter.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rig_core.config import RigConfig
from rig_core.errors import RigError
from rig_trainer_node.assembler import AssembledEpisode, EpisodeAssembler, TransitionError
from rig_trainer_node.messages import ModelShape, step_from_msg
from rig_trainer_node.trainer import ACTION_DIM, Trainer
from rig_transport import Logger
from rig_transport.bag_reader import BagError, read_messages

TRANSITIONS_TOPIC = "/rig/replay/transitions"
TRANSITION_TYPE = "rig_msgs/msg/Transition"


@dataclass
class BagTally:
    """What reading a bag's transitions did."""

    transitions: int = 0
    accepted: int = 0
    rejected: int = 0
    episodes: int = 0


def bag_episodes(bag: Path, shape: ModelShape, log: Logger, tally: BagTally) -> Iterator[AssembledEpisode]:
    """The finished episodes of a bag's transitions, assembled as the trainer node assembles live ones (a rejected
    transition is logged and skipped); BagError (a ValueError) for a bag that cannot be read."""
    assembler = EpisodeAssembler()
    for msg in read_messages(bag, TRANSITIONS_TOPIC, TRANSITION_TYPE):
        tally.transitions += 1
        try:
            result = assembler.add(step_from_msg(msg, shape))
        except TransitionError as error:
            tally.rejected += 1
            log.warning("%s: transition (robot %r, episode %d, step %d) rejected: %s",
                        bag, msg.robot_id, msg.episode_id, msg.step, error)  # fmt: skip
            continue
        if result.note:
            log.warning("%s: %s", bag, result.note)
        tally.accepted += result.accepted
        if result.episode is not None:
            tally.episodes += 1
            yield result.episode


def preload(trainer: Trainer, bag: Path, log: Logger) -> BagTally:
    """Train ``trainer`` (not started yet) on every episode of ``bag``; RigError for an unreadable bag."""
    config = trainer.config
    tally = BagTally()
    try:
        trainer.learn_from(bag_episodes(bag, ModelShape(config.vae.image_size, ACTION_DIM, config.vae.latent_dim),
                                        log, tally))  # fmt: skip
    except BagError as error:
        raise RigError(str(error)) from None
    log.info("%s: %d transitions, %d episodes taken (%d transitions rejected); %d in the replay buffer",
             bag, tally.transitions, tally.episodes, tally.rejected, len(trainer.learner.buffer))  # fmt: skip
    return tally


def train_from_bag(bag: Path, out: Path, config: RigConfig) -> dict:
    """`rig train --from-bag`: a new run in ``out`` trained on the bag's transitions; a summary for the JSON output."""
    if (out / "checkpoint").exists():
        raise RigError(f"--out {out} holds a run already: a run from a bag starts in a new directory")
    log = _console_logger()
    # No env and no evaluation: the env steps are the bag's. `rig eval --checkpoint OUT` evaluates the result.
    trainer = Trainer(config, out, lambda _bundle: None, log, lambda _message: None)
    tally = preload(trainer, bag, log)
    if not trainer.pretrained:
        raise RigError(f"--from-bag {bag}: its {trainer.images.count} images are fewer than the "
                       f"vae.num_images={config.vae.num_images} the VAE pretrains on: record longer, or give "
                       "--set train.vae_from=RUN (a run whose pretrained VAE to use) or --set vae.num_images=N")  # fmt: skip
    counters = trainer.learner.counters
    return {"bag": str(bag), "out": str(out), "transitions": tally.transitions, "rejected": tally.rejected,
            "episodes": tally.episodes, "replay_size": len(trainer.learner.buffer), "env_steps": counters.env_steps,
            "td3_updates": trainer.learner.agent.td3.updates, "vae_steps": trainer.learner.agent.vae_steps}  # fmt: skip


def _console_logger() -> logging.Logger:
    logger = logging.getLogger("rig train")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger
