"""Goal-conditioned TD3 (Fujimoto et al. 2018) on (observation, goal) vectors, as in the authors' code.

Twin critics with a min target, target-policy smoothing, a delayed actor and Polyak targets, no
terminals (fixed-horizon goal reaching). As in rlkit's td3.py, the smoothed target action is *not*
re-clipped to the action bounds (RIG_REFERENCE.md §1.7).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from rig_core.config import TD3Config
from rig_core.optim import adam


class TransitionBatch(NamedTuple):
    """A relabelled training batch (float32 tensors, rewards already recomputed)."""

    obs: torch.Tensor
    action: torch.Tensor
    next_obs: torch.Tensor
    goal: torch.Tensor
    reward: torch.Tensor


class TD3Stats(NamedTuple):
    """Losses of one update (actor_loss is NaN on steps where the actor is not updated)."""

    critic_loss: float
    actor_loss: float
    q_mean: float


def mlp(in_dim: int, out_dim: int, hidden_sizes: tuple[int, ...]) -> nn.Sequential:
    """ReLU MLP with a linear output."""
    layers: list[nn.Module] = []
    for size in hidden_sizes:
        layers += [nn.Linear(in_dim, size), nn.ReLU()]
        in_dim = size
    return nn.Sequential(*layers, nn.Linear(in_dim, out_dim))


Trunk = Callable[[], nn.Module]
"""Makes a network's own input encoder (a module with `out_features`) for observations that are not vectors."""


class _GoalConditioned(nn.Module):
    """An MLP on [o, g, extra]; o and g pass through the network's own `trunk` first when it has one."""

    def __init__(self, obs_dim: int, extra_dim: int, out_dim: int, hidden_sizes: tuple[int, ...], trunk: Trunk | None) -> None:
        super().__init__()
        self.trunk = None if trunk is None else trunk()
        features = obs_dim if self.trunk is None else self.trunk.out_features
        self.net = mlp(2 * features + extra_dim, out_dim, hidden_sizes)

    def inputs(self, obs: torch.Tensor, goal: torch.Tensor) -> list[torch.Tensor]:
        return [obs, goal] if self.trunk is None else [self.trunk(obs), self.trunk(goal)]


class Actor(_GoalConditioned):
    """pi(o, g) -> a in [-1, 1]."""

    def __init__(self, obs_dim: int, action_dim: int, hidden_sizes: tuple[int, ...], trunk: Trunk | None = None) -> None:
        super().__init__(obs_dim, 0, action_dim, hidden_sizes, trunk)

    def forward(self, obs: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(torch.cat(self.inputs(obs, goal), dim=-1)))


class Critic(_GoalConditioned):
    """Q(o, g, a)."""

    def __init__(self, obs_dim: int, action_dim: int, hidden_sizes: tuple[int, ...], trunk: Trunk | None = None) -> None:
        super().__init__(obs_dim, action_dim, 1, hidden_sizes, trunk)

    def forward(self, obs: torch.Tensor, goal: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([*self.inputs(obs, goal), action], dim=-1)).squeeze(-1)


class TD3:
    """The learner. `update` takes one gradient step on the critics (and every `policy_delay` on the actor).

    Observations and goals are float vectors of `obs_dim`, or, with a `trunk` (HER on pixels), uint8 images
    that each network encodes with its own trunk."""

    def __init__(
        self, obs_dim: int, action_dim: int, config: TD3Config, device: torch.device | str = "cpu", trunk: Trunk | None = None
    ) -> None:
        self.config = config
        self.device = torch.device(device)
        self.obs_rank = 1 if trunk is None else 3  # the dimensions of one observation
        hidden = config.hidden_sizes
        self.actor = Actor(obs_dim, action_dim, hidden, trunk).to(self.device)
        self.critic1 = Critic(obs_dim, action_dim, hidden, trunk).to(self.device)
        self.critic2 = Critic(obs_dim, action_dim, hidden, trunk).to(self.device)
        self.actor_target = copy.deepcopy(self.actor)
        self.critic1_target = copy.deepcopy(self.critic1)
        self.critic2_target = copy.deepcopy(self.critic2)
        self.actor_optimizer = adam(self.actor.parameters(), config.lr, self.device)
        critic_params = list(self.critic1.parameters()) + list(self.critic2.parameters())
        self.critic_optimizer = adam(critic_params, config.lr, self.device)
        self.updates = 0

    @torch.no_grad()
    def act(self, obs: np.ndarray, goal: np.ndarray) -> np.ndarray:
        """Deterministic action(s) for one observation/goal or a batch (float vectors, or uint8 images)."""
        dtype = torch.float32 if self.obs_rank == 1 else None
        obs_t = torch.as_tensor(obs, dtype=dtype, device=self.device)
        goal_t = torch.as_tensor(goal, dtype=dtype, device=self.device)
        single = obs_t.dim() == self.obs_rank
        action = self.actor(obs_t[None], goal_t[None])[0] if single else self.actor(obs_t, goal_t)
        return action.cpu().numpy()

    def update(self, batch: TransitionBatch) -> TD3Stats:
        """One TD3 step on a batch."""
        cfg = self.config
        with torch.no_grad():
            noise = (torch.randn_like(batch.action) * cfg.target_noise).clamp(-cfg.target_noise_clip, cfg.target_noise_clip)
            next_action = self.actor_target(batch.next_obs, batch.goal) + noise
            target_q = torch.min(
                self.critic1_target(batch.next_obs, batch.goal, next_action),
                self.critic2_target(batch.next_obs, batch.goal, next_action),
            )
            target = batch.reward + cfg.gamma * target_q
        q1 = self.critic1(batch.obs, batch.goal, batch.action)
        q2 = self.critic2(batch.obs, batch.goal, batch.action)
        critic_loss = F.mse_loss(q1, target) + F.mse_loss(q2, target)
        self.critic_optimizer.zero_grad(set_to_none=True)
        critic_loss.backward()
        self.critic_optimizer.step()
        self.updates += 1

        actor_loss = float("nan")
        if self.updates % cfg.policy_delay == 0:
            loss = -self.critic1(batch.obs, batch.goal, self.actor(batch.obs, batch.goal)).mean()
            actor_params = list(self.actor.parameters())
            # Gradients of the actor's parameters only: backward() would also fill critic1's, for nothing
            for param, grad in zip(actor_params, torch.autograd.grad(loss, actor_params)):
                param.grad = grad
            self.actor_optimizer.step()
            actor_loss = loss.item()
            self._soft_update()
        return TD3Stats(critic_loss.item(), actor_loss, q1.mean().item())

    @torch.no_grad()
    def _soft_update(self) -> None:
        """Polyak targets: every target tensor moves tau of the way to its network's, in one multi-tensor call
        (torch's own EMA helper, swa_utils.get_ema_multi_avg_fn, uses the same _foreach_lerp_)."""
        pairs = [(self.actor, self.actor_target), (self.critic1, self.critic1_target), (self.critic2, self.critic2_target)]
        targets = [param for _, target in pairs for param in target.parameters()]
        sources = [param for net, _ in pairs for param in net.parameters()]
        torch._foreach_lerp_(targets, sources, self.config.tau)

    def modules(self) -> dict[str, nn.Module]:
        """Every network by checkpoint name."""
        return {
            "actor": self.actor,
            "critic1": self.critic1,
            "critic2": self.critic2,
            "actor_target": self.actor_target,
            "critic1_target": self.critic1_target,
            "critic2_target": self.critic2_target,
        }

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Every optimizer by checkpoint name."""
        return {"actor_optimizer": self.actor_optimizer, "critic_optimizer": self.critic_optimizer}
