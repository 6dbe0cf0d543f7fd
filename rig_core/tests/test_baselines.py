"""The paper's image baselines (HER on pixels, DSAE, L&R) and RIG's reward ablation (latent distance, log
probability, pixel MSE): each end to end through `rig train`, `--resume` and `rig eval` on tiny budgets, and
tests that fail if a method's relabelling or reward is wired wrong (the reward of a sampled batch recomputed
here, independently, from the method's formula)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from test_cli import metrics_rows, tiny_train_args

from rig_core.autoencoders import DeepSpatialAutoencoder, PlainAutoencoder, spatial_soft_argmax
from rig_core.cli import main
from rig_core.config import Method, RelabelStrategy, RewardKind, apply_overrides, task_config
from rig_core.errors import RigError
from rig_core.learner import Learner
from rig_core.replay import FUTURE, Episode
from rig_core.vae import ConvVAE, images_to_tensor

SIZE, T = 48, 10
CASES = {  # name: (rig train flags, method, reward)
    "her-pixels": (["--method", "her-pixels"], Method.HER_PIXELS, RewardKind.LATENT),
    "dsae": (["--method", "dsae"], Method.DSAE, RewardKind.LATENT),
    "lr": (["--method", "lr"], Method.LR, RewardKind.LATENT),
    "rig-log-prob": (["--reward", "log-prob"], Method.RIG, RewardKind.LOG_PROB),
    "rig-pixel-mse": (["--reward", "pixel-mse"], Method.RIG, RewardKind.PIXEL_MSE),
}


def random_images(rng: np.random.Generator, count: int) -> np.ndarray:
    return rng.integers(0, 256, (count, SIZE, SIZE, 3), dtype=np.uint8)


def test_soft_argmax_finds_each_channels_blob():
    features = torch.zeros(1, 2, 13, 21)
    rows, cols = torch.arange(13)[:, None], torch.arange(21)[None, :]
    for channel, (row, col) in enumerate([(3, 10), (12, 0)]):
        features[0, channel] = -((rows - row) ** 2 + (cols - col) ** 2).float()  # a sharp blob, peak 0 at (row, col)
    points = spatial_soft_argmax(features, temperature=0.05)
    expected = torch.tensor([[[0.0, -0.5], [-1.0, 1.0]]])  # (x, y): column 10 of 0..20 is x = 0, row 3 of 0..12 y = -0.5
    torch.testing.assert_close(points, expected, atol=1e-3, rtol=0)


def test_dsae_codes_are_feature_points_and_it_learns():
    torch.manual_seed(0)
    dsae = DeepSpatialAutoencoder(SIZE, points=4)
    images = images_to_tensor(random_images(np.random.default_rng(0), 8))
    codes = dsae.codes(images)
    assert codes.shape == (8, 8) and codes.abs().max() <= 1.0
    assert dsae.target(images).shape == (8, 1, SIZE // 4, SIZE // 4) and dsae.decode(codes).shape == (8, 3, SIZE, SIZE)
    optimizer = torch.optim.Adam(dsae.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        loss = dsae.loss(images, beta=5.0)
        assert loss.kl.item() == 0.0 and loss.total.item() == loss.reconstruction.item()
        optimizer.zero_grad()
        loss.total.backward()
        optimizer.step()
        losses.append(loss.total.item())
    assert losses[-1] < 0.5 * losses[0]


def test_the_lr_autoencoder_has_no_noise_and_no_kl():
    torch.manual_seed(0)
    autoencoder = PlainAutoencoder(SIZE, 4)
    x = images_to_tensor(random_images(np.random.default_rng(1), 4))
    first, second = autoencoder.loss(x, beta=5.0), autoencoder.loss(x, beta=5.0)
    assert first.total.item() == second.total.item() and first.kl.item() == 0.0  # deterministic, no KL


def learner_with_one_episode(tmp_path: Path, method: Method, reward: RewardKind, relabel: RelabelStrategy) -> Learner:
    """A real Learner of the method (as `rig train` builds it), its networks untrained, holding one episode of random
    images encoded as the method encodes them."""
    overrides = [f"method={method.value}", f"replay.reward={reward.value}", f"replay.relabel={relabel.value}",
                 f"vae.image_size={SIZE}", "vae.latent_dim=4", "td3.hidden_sizes=8"]  # fmt: skip
    config = apply_overrides(task_config("visual-reacher"), overrides)
    rng = np.random.default_rng(0)
    learner = Learner(config, tmp_path, 2, 2, sample_goal_image=lambda r: random_images(r, 1)[0])
    images = random_images(rng, T + 1)
    encoded = learner.agent.encode(images)
    goal = learner.sample_goals(1)[0]
    with_images = learner.agent.vae is not None
    learner.add_episode(Episode(
        obs=encoded[:-1], action=rng.uniform(-1, 1, (T, 2)).astype(np.float32), next_obs=encoded[1:],
        goal=np.repeat(goal[None], T, axis=0), obs_image=images[:-1] if with_images else None,
        next_obs_image=images[1:] if with_images else None,
    ))  # fmt: skip
    return learner


def expected_reward(learner: Learner, next_obs: np.ndarray, goal: np.ndarray, next_images: np.ndarray) -> np.ndarray:
    """Each method's reward from its formula, computed here with torch, apart from rewards.py."""
    config, vae = learner.config, learner.agent.vae
    if config.method is Method.HER_PIXELS:
        difference = torch.as_tensor(next_obs, dtype=torch.float64) / 255 - torch.as_tensor(goal, dtype=torch.float64) / 255
        return -difference.flatten(1).norm(dim=1).numpy()
    if config.replay.reward is RewardKind.LATENT:
        return -np.sqrt(((next_obs - goal) ** 2).sum(axis=1))
    assert isinstance(vae, ConvVAE)
    vae.eval()
    with torch.no_grad():
        if config.replay.reward is RewardKind.LOG_PROB:
            mu, logvar = vae.encoder(images_to_tensor(next_images))
            variance = logvar.exp().clamp(min=config.replay.min_reward_variance)
            return (-((mu - torch.as_tensor(goal)) ** 2) / (2 * variance)).sum(dim=1).numpy()
        goal_images = vae.decode(torch.as_tensor(goal))  # (N, 3, H, W) in [0, 1]
        return -((images_to_tensor(next_images) - goal_images) ** 2).flatten(1).sum(dim=1).numpy()


@pytest.mark.parametrize("case", list(CASES))
def test_relabelled_rewards_follow_the_methods_formula(case, tmp_path):
    _, method, reward = CASES[case]
    relabel = RelabelStrategy.FUTURE if method is not Method.RIG else RelabelStrategy.RIG
    learner = learner_with_one_episode(tmp_path, method, reward, relabel)
    buffer = learner.buffer
    batch = buffer.sample(64, np.random.default_rng(3), learner.sample_goals)
    index = np.array([int(np.flatnonzero((buffer.obs[:T] == obs).reshape(T, -1).all(axis=1))[0]) for obs in batch.obs])
    next_images = buffer.next_obs[index] if method is Method.HER_PIXELS else buffer.next_obs_image[index]
    np.testing.assert_allclose(batch.reward, expected_reward(learner, batch.next_obs, batch.goal, next_images),
                               rtol=1e-4, atol=1e-4)  # fmt: skip
    assert (batch.source == FUTURE).any()
    for i in np.flatnonzero(batch.source == FUTURE):  # a future goal: an achieved next observation at t..T
        achieved = [t for t in range(T) if np.array_equal(buffer.next_obs[t], batch.goal[i])]
        assert achieved and achieved[-1] >= index[i], (i, achieved, index[i])
        if achieved[-1] == index[i] and reward is RewardKind.LATENT:
            assert batch.reward[i] == 0.0  # the goal is the next observation itself


def test_the_baselines_goals_come_from_the_task_images(tmp_path):
    learner = learner_with_one_episode(tmp_path, Method.HER_PIXELS, RewardKind.LATENT, RelabelStrategy.FUTURE)
    goals = learner.sample_goals(2)
    assert goals.shape == (2, SIZE, SIZE, 3) and goals.dtype == np.uint8  # images, as rendered
    batch = learner.buffer.sample(32, np.random.default_rng(0), learner.sample_goals)
    assert set(batch.source.tolist()) <= {0, 1}  # rollout or future: there is no prior to imagine with


@pytest.mark.parametrize(
    ("overrides", "message"),
    [(["method=dsae"], "no generative model"), (["method=lr", "replay.relabel=future", "oracle=true"], "Oracle"),
     (["method=her-pixels", "replay.relabel=future", "replay.reward=log-prob"], "reward ablation"),
     (["oracle=true", "replay.reward=pixel-mse"], "reward ablation")],
)  # fmt: skip
def test_a_method_refuses_what_it_cannot_do(overrides, message):
    with pytest.raises(RigError, match=message):
        apply_overrides(task_config("visual-reacher"), overrides)


@pytest.mark.parametrize("case", list(CASES))
def test_train_resume_and_eval_each_method(case, tmp_path, capsys):
    flags, method, reward = CASES[case]
    out = tmp_path / "run"
    assert main(tiny_train_args("visual-reacher", out, 50, "--image-size", str(SIZE), *flags)) == 0
    config = json.loads((out / "checkpoint" / "config.json").read_text())
    assert (config["method"], config["replay"]["reward"]) == (method.value, reward.value)
    assert config["replay"]["relabel"] == ("rig" if method is Method.RIG else "future")  # baselines: HER future
    assert (out / "vae_samples.png").exists() == (method is not Method.HER_PIXELS)
    assert main(["train", "--resume", str(out), "--env-steps", "100", "--no-progress"]) == 0
    rows = metrics_rows(out)
    assert [int(row["env_steps"]) for row in rows] == [50, 100] and float(rows[-1]["critic_loss"]) >= 0.0
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(out), "--episodes", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["trained_env_steps"] == 100 and report["final_hand_distance"] >= 0.0
    assert report["goal_clip_std"] == (0.0 if method is Method.RIG else None)  # only RIG has a goal prior to clamp to
    if method is not Method.RIG:
        assert main(["export", "--checkpoint", str(out), "--out", str(tmp_path / "policy.safetensors")]) == 1
        assert "only RIG policies go to policy nodes" in capsys.readouterr().err
