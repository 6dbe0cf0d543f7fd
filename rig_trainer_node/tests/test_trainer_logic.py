"""The trainer's logic without DDS: transition validation, episode assembly, its files, the training thread."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from transitions import LATENT_DIM, SIZE, TINY, episode, frame, transition

from rig_core.config import task_config
from rig_core.image_store import ImageStore
from rig_core.weights import WeightsBundle
from rig_trainer_node.assembler import EpisodeAssembler, TransitionError
from rig_trainer_node.messages import ModelShape, step_from_msg
from rig_trainer_node.storage import VersionCounter
from rig_trainer_node.trainer import Trainer, trainer_config
from rig_transport.dds_types import default_types

FACTORY = default_types()  # message classes only: no DomainParticipant
SHAPE = ModelShape(SIZE, 2, LATENT_DIM)
TIMEOUT_S = 120.0


def records(robot: str, episode_id: int, steps: range, horizon: int) -> list:
    return [step_from_msg(transition(FACTORY, robot, episode_id, step, horizon), SHAPE) for step in steps]


def test_a_valid_transition_becomes_a_step_record():
    record = step_from_msg(transition(FACTORY, "r1", 3, 2, horizon=3), SHAPE)
    assert (record.robot_id, record.episode_id, record.step, record.episode_end) == ("r1", 3, 2, True)
    assert np.array_equal(record.observation, frame("r1", 3, 2)) and np.array_equal(record.next_observation, frame("r1", 3, 3))
    assert record.action.tolist() == [0.5, -0.25] and record.goal.shape == (LATENT_DIM,)


def image(height: int, width: int, encoding: str = "rgb8", data_bytes: int | None = None) -> object:
    channels = 1 if encoding == "mono8" else 3
    size = height * width * channels if data_bytes is None else data_bytes
    return FACTORY.new("sensor_msgs/msg/Image", height=height, width=width, encoding=encoding, step=width * channels,
                       data=bytes(size))  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"observation": image(32, 32)}, "observation is 32x32 'rgb8'; the model takes 48x48 rgb8"),
        ({"next_observation": image(48, 48, "mono8")}, "next_observation is 48x48 'mono8'"),
        ({"observation": image(48, 48, data_bytes=100)}, "observation: image data has 100 bytes"),
        ({"action": np.zeros(3, np.float32)}, "action has 3 values, the model's is 2"),
        ({"action": np.array([1.5, 0.0], np.float32)}, r"outside \[-1, 1\]"),
        ({"goal_latent": np.zeros(4, np.float32)}, "goal_latent has 4 values, the model's is 16"),
        ({"goal_latent": np.full(16, np.nan, np.float32)}, "NaN"),
        ({"robot_id": ""}, "robot_id"),
    ],
)
def test_malformed_transitions_are_rejected_with_the_reason(changes, problem):
    with pytest.raises(TransitionError, match=problem):
        step_from_msg(transition(FACTORY, "r1", 0, 0, horizon=3, **changes), SHAPE)


def test_episodes_of_interleaved_robots_are_assembled_separately():
    assembler = EpisodeAssembler()
    a, b = records("a", 7, range(3), 3), records("b", 0, range(3), 3)
    results = [assembler.add(record) for pair in zip(a, b) for record in pair]
    assert all(result.accepted and result.note is None for result in results)
    finished = [result.episode for result in results if result.episode is not None]
    assert [(e.robot_id, e.episode_id, len(e)) for e in finished] == [("a", 7, 3), ("b", 0, 3)]
    first = finished[0]
    assert first.obs_image.shape == (3, SIZE, SIZE, 3) and first.goal.shape == (3, LATENT_DIM)
    assert np.array_equal(first.next_obs_image[1], first.obs_image[2]) and first.action.dtype == np.float32


def test_joined_broken_and_abandoned_episodes_are_not_assembled():
    assembler = EpisodeAssembler()
    joined = assembler.add(records("a", 0, range(2, 3), 4)[0])  # the trainer started mid-episode
    assert not joined.accepted and "joined episode 0 at step 2" in joined.note
    assert not assembler.add(records("a", 0, range(3, 4), 4)[0]).accepted  # the rest of it is skipped
    first, second, fourth = records("a", 1, range(0, 4), 4)[:2] + records("a", 1, range(3, 4), 4)
    assert assembler.add(first).accepted and assembler.add(second).accepted
    with pytest.raises(TransitionError, match="step 3 arrived where step 2 was due; the episode's 2 transitions"):
        assembler.add(fourth)
    for record in records("a", 2, range(2), 4):
        assembler.add(record)
    restarted = assembler.add(records("a", 0, range(1), 4)[0])  # a restarted policy counts from episode 0 again
    assert restarted.accepted and "episode 2 was left after 2 steps" in restarted.note
    outcomes = [assembler.add(record) for record in records("a", 0, range(1, 4), 4)]
    assert len(outcomes[-1].episode) == 4


def test_image_store_and_version_counter_persist(tmp_path):
    store = ImageStore(tmp_path / "images")
    store.append(np.zeros((3, SIZE, SIZE, 3), np.uint8))
    store.append(np.ones((2, SIZE, SIZE, 3), np.uint8))
    reopened = ImageStore(tmp_path / "images")
    assert reopened.count == 5 and reopened.load()[:, 0, 0, 0].tolist() == [0, 0, 0, 1, 1]
    reopened.clear()
    assert ImageStore(tmp_path / "images").count == 0
    counter = VersionCounter(tmp_path / "version.json")
    assert (counter.value, counter.next(), counter.next()) == (0, 1, 2)
    assert VersionCounter(tmp_path / "version.json").next() == 3


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {TIMEOUT_S} s"
        time.sleep(0.05)


def test_trainer_pretrains_then_stores_trains_checkpoints_and_resumes(tmp_path):
    published: list[WeightsBundle] = []
    errors: list[str] = []
    config = trainer_config(task_config("visual-reacher"), 0, SIZE, TINY, "")

    def make() -> Trainer:
        return Trainer(config, tmp_path, published.append, logging.getLogger("trainer"), errors.append, 0.2, 0.0)

    def assembled(episode_id: int) -> object:
        assembler = EpisodeAssembler()
        return [assembler.add(step_from_msg(msg, SHAPE)) for msg in episode(FACTORY, "r1", episode_id, 20)][-1].episode

    trainer = make()
    trainer.start()
    for episode_id in range(4):  # 4 x 21 images >= vae.num_images = 64
        trainer.submit(assembled(episode_id))
    wait_until(lambda: published, "weights after pretraining")
    assert published[0].version == 1 and trainer.progress.replay_size == 0 and not trainer.images.count
    for episode_id in range(4, 6):
        trainer.submit(assembled(episode_id))
    wait_until(lambda: trainer.progress.replay_size == 40 and trainer.progress.gradient_steps > 0, "training")
    trainer.stop()
    assert not errors
    assert (tmp_path / "checkpoint" / "state.json").is_file() and (tmp_path / "metrics.csv").is_file()
    events = EventAccumulator(str(tmp_path / "tensorboard"))  # TensorBoard's reader: status numbers, the VAE grid
    events.Reload()
    replay_size = events.Scalars("progress/replay_size")
    assert (replay_size[-1].step, replay_size[-1].value) == (40, 40) and events.Scalars("train/critic_loss")
    [grid] = events.Images("vae/samples")  # after pretraining: three labelled rows of eight images
    assert grid.step == 0 and grid.width > 3 * grid.height > 0
    last = published[-1].version

    resumed = make()
    assert len(resumed.learner.buffer) == 40 and resumed.learner.counters.env_steps == 40
    resumed.start()
    wait_until(lambda: published[-1].version == last + 1, "weights of the resumed run")
    resumed.stop()


def test_a_stop_stores_the_backlog_without_vae_phases_and_checkpoints_once(tmp_path):
    """Episodes still queued at a stop are stored (nothing lost) without the online VAE phases they would be due,
    so a backlog cannot make a stop take minutes; the next run does the phase that is due."""
    published: list[WeightsBundle] = []
    config = trainer_config(task_config("visual-reacher"), 0, SIZE, TINY + ";vae.online_every=20", "")

    def make() -> Trainer:
        return Trainer(config, tmp_path, published.append, logging.getLogger("trainer"), print, 0.2, 0.0)

    def assembled(episode_id: int) -> object:
        assembler = EpisodeAssembler()
        return [assembler.add(step_from_msg(msg, SHAPE)) for msg in episode(FACTORY, "r1", episode_id, 20)][-1].episode

    first = make()
    first.start()
    for episode_id in range(4):  # the VAE pretrains on these
        first.submit(assembled(episode_id))
    wait_until(lambda: published, "weights after pretraining")
    first.stop()

    backlog = make()  # not started: every episode submitted now is still queued at the stop
    vae_steps = backlog.learner.agent.vae_steps
    for episode_id in range(4, 10):
        backlog.submit(assembled(episode_id))
    backlog.stop()
    assert backlog.learner.agent.vae_steps == vae_steps  # 120 env steps would owe phases every 20 otherwise
    assert backlog.learner.counters.env_steps == 120
    metrics = (tmp_path / "metrics.csv").read_text().splitlines()
    assert metrics[-1].startswith("120,")  # one checkpoint, with every stored transition

    resumed = make()
    assert len(resumed.learner.buffer) == 120
