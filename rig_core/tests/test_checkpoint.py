"""Checkpoints and the replay log: round trips through real files, corruption detected."""

import numpy as np
import pytest
import torch

from rig_core.agent import RIGAgent
from rig_core.checkpoint import load_checkpoint, save_checkpoint
from rig_core.config import apply_overrides, task_config
from rig_core.errors import RigError
from rig_core.replay import Episode
from rig_core.replay_log import ReplayLog
from rig_core.td3 import TransitionBatch

CONFIG = apply_overrides(task_config("visual-reacher"), ["vae.image_size=48", "vae.latent_dim=4", "td3.hidden_sizes=32"])


def trained_agent() -> RIGAgent:
    torch.manual_seed(0)
    agent = RIGAgent(CONFIG, state_dim=2, action_dim=2)
    images = np.random.default_rng(0).integers(0, 256, (8, 48, 48, 3), dtype=np.uint8)
    agent.train_vae(images, beta=1.0)
    agent.fit_prior(agent.encode(images))
    agent.fit_scene(images)
    for _ in range(2):
        agent.td3.update(
            TransitionBatch(torch.randn(16, 4), torch.zeros(16, 2), torch.randn(16, 4), torch.randn(16, 4), torch.randn(16))
        )
    return agent


def test_load_weights_round_trip(tmp_path):
    agent = trained_agent()
    save_checkpoint(tmp_path, CONFIG, agent.tensors(), {"counters": {"env_steps": 5}})
    loaded = load_checkpoint(tmp_path)
    assert loaded.config == CONFIG and loaded.state["counters"]["env_steps"] == 5
    fresh = RIGAgent(loaded.config, state_dim=2, action_dim=2)
    fresh.load_tensors(loaded.tensors)
    assert {"scene.static", "scene.reconstruction_errors"} <= set(agent.tensors())
    for name, tensor in agent.tensors().items():
        torch.testing.assert_close(fresh.tensors()[name], tensor, msg=name)
    obs = np.ones(4, np.float32)
    np.testing.assert_array_equal(fresh.act(obs, obs), agent.act(obs, obs))


def test_corrupt_or_missing_checkpoints_are_clear_errors(tmp_path):
    with pytest.raises(RigError, match="missing"):
        load_checkpoint(tmp_path / "nowhere")
    save_checkpoint(tmp_path, CONFIG, trained_agent().tensors(), {})
    data = bytearray((tmp_path / "models.safetensors").read_bytes())
    data[-10] ^= 0xFF
    (tmp_path / "models.safetensors").write_bytes(bytes(data))
    with pytest.raises(RigError, match="checksum"):
        load_checkpoint(tmp_path)
    (tmp_path / "state.json").write_text("{not json")
    with pytest.raises(RigError, match="corrupt"):
        load_checkpoint(tmp_path)


def test_replay_log_round_trip_and_prune(tmp_path):
    log = ReplayLog(tmp_path)
    episodes = [Episode(np.full((10, 2), i, np.float32), np.zeros((10, 2), np.float32), np.zeros((10, 2), np.float32),
                        np.zeros((10, 2), np.float32)) for i in range(5)]  # fmt: skip
    for episode in episodes:
        log.append(episode)
    reopened = ReplayLog(tmp_path)
    read = list(reopened.read())
    assert [index for index, _ in read] == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(read[3][1].obs, episodes[3].obs)
    reopened.prune(capacity=25)  # the newest 25 transitions live in episodes 2, 3 and 4
    assert [index for index, _ in ReplayLog(tmp_path).read()] == [2, 3, 4]
    reopened.append(episodes[0])
    assert [index for index, _ in ReplayLog(tmp_path).read()] == [2, 3, 4, 5]
