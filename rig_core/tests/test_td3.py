"""TD3: the delayed actor and Polyak targets, and learning a tiny goal-reaching problem with relabelling."""

import numpy as np
import torch

from rig_core.config import RelabelStrategy, TD3Config
from rig_core.replay import Episode, RelabelingReplayBuffer
from rig_core.td3 import TD3, TransitionBatch


def random_batch(size: int = 32) -> TransitionBatch:
    return TransitionBatch(torch.randn(size, 2), torch.rand(size, 2) * 2 - 1, torch.randn(size, 2), torch.randn(size, 2),
                           torch.randn(size))  # fmt: skip


def test_actor_and_targets_update_only_every_policy_delay_steps():
    torch.manual_seed(0)
    td3 = TD3(2, 2, TD3Config(hidden_sizes=(16,), policy_delay=2, tau=0.5))
    actor_before = [p.clone() for p in td3.actor.parameters()]
    target_before = [p.clone() for p in td3.critic1_target.parameters()]
    stats = td3.update(random_batch())
    assert np.isnan(stats.actor_loss)
    assert all(torch.equal(a, b) for a, b in zip(actor_before, td3.actor.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(target_before, td3.critic1_target.parameters()))
    stats = td3.update(random_batch())
    assert not np.isnan(stats.actor_loss)
    assert not all(torch.equal(a, b) for a, b in zip(actor_before, td3.actor.parameters()))
    for old, target, online in zip(target_before, td3.critic1_target.parameters(), td3.critic1.parameters()):
        torch.testing.assert_close(target, 0.5 * old + 0.5 * online)  # Polyak with tau = 0.5


def test_td3_learns_to_reach_goals_on_a_point_mass():
    """2-D point in [-1, 1]^2, each step moves 0.2 * action; reward = -distance to goal; horizon 10."""
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    td3 = TD3(2, 2, TD3Config(hidden_sizes=(64, 64), tau=0.05, gamma=0.9, batch_size=128))
    buffer = RelabelingReplayBuffer(20_000, 2, 2, RelabelStrategy.RIG.fractions())
    sample_goals = lambda count: rng.uniform(-1, 1, (count, 2)).astype(np.float32)  # noqa: E731

    def rollout(noise: float) -> Episode:
        pos, goal = rng.uniform(-1, 1, 2).astype(np.float32), sample_goals(1)[0]
        rows = []
        for _ in range(10):
            action = np.clip(td3.act(pos, goal) + noise * rng.standard_normal(2), -1, 1).astype(np.float32)
            nxt = np.clip(pos + 0.2 * action, -1, 1).astype(np.float32)
            rows.append((pos, action, nxt))
            pos = nxt
        obs, action, nxt = map(np.stack, zip(*rows))
        return Episode(obs, action, nxt, np.repeat(goal[None], 10, 0))

    def final_distance() -> float:
        eval_rng = np.random.default_rng(123)
        distances = []
        for _ in range(50):
            pos, goal = eval_rng.uniform(-1, 1, 2), eval_rng.uniform(-1, 1, 2)
            for _ in range(10):
                pos = np.clip(pos + 0.2 * td3.act(pos, goal), -1, 1)
            distances.append(np.linalg.norm(pos - goal))
        return float(np.mean(distances))

    before = final_distance()
    for _ in range(150):
        buffer.add_episode(rollout(noise=0.3))
        for _ in range(20):
            batch = buffer.sample(128, rng, sample_goals)
            td3.update(TransitionBatch(*[torch.as_tensor(a) for a in batch[:5]]))
    after = final_distance()
    assert after < 0.15 < before
