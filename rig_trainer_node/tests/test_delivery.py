"""Exactly once into the trainer's store: the ledger of stored episodes persists, and what a crash kept it from
recording, the stored files' own metadata gives back (real sqlite3 and safetensors files, no DDS)."""

from __future__ import annotations

import logging

import numpy as np
from test_trainer_logic import FACTORY, SHAPE, wait_until
from transitions import SIZE, TINY, episode

from rig_core.config import task_config
from rig_core.replay import Episode
from rig_core.replay_log import ReplayLog
from rig_trainer_node.assembler import AssembledEpisode, EpisodeAssembler
from rig_trainer_node.dedup import DeliveryLedger, EpisodeKey, identity_metadata
from rig_trainer_node.messages import step_from_msg
from rig_trainer_node.trainer import Trainer, trainer_config


def assembled(robot: str, session: str, episode_id: int) -> AssembledEpisode:
    assembler = EpisodeAssembler()
    messages = episode(FACTORY, robot, episode_id, 20)
    for msg in messages:
        msg.session_id = session
    return [assembler.add(step_from_msg(msg, SHAPE)) for msg in messages][-1].episode


def test_the_ledger_persists_and_recovers_episodes_from_the_stored_files_metadata(tmp_path):
    ledger = DeliveryLedger(tmp_path / "delivered.sqlite")
    ledger.add(EpisodeKey("a", "run1", 0), 50)
    ledger.add(EpisodeKey("a", "run1", 0), 50)
    ledger.close()
    log = ReplayLog(tmp_path / "replay")  # an episode stored just before a crash, not yet in the ledger
    steps = np.zeros((3, 2), np.float32)
    log.append(Episode(obs=steps, action=steps, next_obs=steps, goal=steps), identity_metadata(EpisodeKey("b", "run7", 4)))
    log.append(Episode(obs=steps, action=steps, next_obs=steps, goal=steps))  # a `rig train` episode: no identity
    reopened = DeliveryLedger(tmp_path / "delivered.sqlite", ReplayLog(tmp_path / "replay").metadata())
    assert len(reopened) == 2 and EpisodeKey("a", "run1", 0) in reopened and ("b", "run7", 4) in reopened
    assert EpisodeKey("a", "run2", 0) not in reopened


def test_the_trainer_records_each_stored_episode_and_a_restart_knows_them_all(tmp_path):
    stored: list[AssembledEpisode] = []
    config = trainer_config(task_config("visual-reacher"), 0, SIZE, TINY, "")
    trainer = Trainer(config, tmp_path, print, logging.getLogger("trainer"), print, 0.2, 0.0, stored.append)
    trainer.start()
    trainer.submit(assembled("a", "run1", 0))  # before pretraining: into the VAE's image store
    trainer.submit(assembled("a", "run1", 0))  # a copy: acknowledged again, not stored
    trainer.submit(assembled("a", "run2", 0))  # the same episode id of another run: stored
    wait_until(lambda: len(stored) == 3, "three acknowledgements")
    trainer.stop()
    assert [e.key for e in stored] == [("a", "run1", 0), ("a", "run1", 0), ("a", "run2", 0)]
    assert trainer.images.count == 42 and not trainer.pending
    assert len(trainer.ledger) == 2 and all(e.key in trainer.ledger for e in stored)
    (tmp_path / "delivered.sqlite").unlink()  # as if the trainer had died before recording them
    restarted = Trainer(config, tmp_path, print, logging.getLogger("trainer"), print)
    assert len(restarted.ledger) == 2 and all(e.key in restarted.ledger for e in stored)
