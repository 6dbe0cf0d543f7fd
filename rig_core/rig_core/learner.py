"""The learning side of RIG, shared by `rig train` and the trainer node: agent, relabelling replay buffer,
replay log, VAE pretraining and online phases, TD3 updates, checkpoint and resume.

Whoever collects experience (the simulator loop of `rig train`, or transitions arriving over ROS) hands
finished episodes to `add_episode` and calls `train_td3` once per env step.

Exact resume: `mark` copies everything a checkpoint holds at a consistent point of the run (between episodes,
phases, evaluations and pretraining epochs); on an interrupt `checkpoint_at_mark` saves that copy and drops the
replay-log episodes stored after it, so a resumed run repeats the interrupted work from there, identically.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rig_core.agent import RIGAgent, VAEStats
from rig_core.checkpoint import load_checkpoint, save_checkpoint
from rig_core.config import Method, RigConfig
from rig_core.errors import RigError
from rig_core.replay import Episode, RelabelingReplayBuffer
from rig_core.replay_log import ReplayLog
from rig_core.rewards import make_reward
from rig_core.vae_training import (
    PRETRAINED_VAE,
    Pretraining,
    load_pretrained_vae,
    online_vae_phase,
    pretrain_vae,
    save_pretrained_vae,
)

GoalSampler = Callable[[np.random.Generator], np.ndarray]
"""A task's goal distribution: a goal state, or its rendered image (uint8 (H, W, 3))."""
GoalBatchSampler = Callable[[np.random.Generator, int], np.ndarray]
"""A batch of goal states from a task's goal distribution: (count, state_dim)."""
Snapshot = tuple[dict[str, torch.Tensor], dict[str, Any]]
"""What a checkpoint saves: (tensors, JSON state)."""


@dataclass
class Counters:
    """Progress of a run, saved in state.json."""

    env_steps: int = 0
    episodes: int = 0
    wall_time_s: float = 0.0
    vae_pretrained: bool = False
    last_eval: int = 0
    last_checkpoint: int = 0
    last_vae_phase: int = 0


class Learner:
    """Everything that learns and persists, in one output directory."""

    def __init__(
        self,
        config: RigConfig,
        out: Path,
        state_dim: int,
        action_dim: int,
        device: str = "cpu",
        sample_goal_states: GoalBatchSampler | None = None,
        progress: bool = False,
        sample_goal_image: GoalSampler | None = None,
    ) -> None:
        """`sample_goal_states` draws a batch from the task's goal distribution, needed by the Oracle (true-state goals);
        `sample_goal_image` renders one of its goals, needed by the image baselines (which have no prior to imagine
        goals with); `progress` shows a progress bar during VAE pretraining."""
        if config.oracle and sample_goal_states is None:
            raise ValueError("the Oracle needs the task's goal-state sampler")
        if config.method is not Method.RIG and sample_goal_image is None:
            raise RigError(f"method {config.method.value} explores towards the task's goal images: it needs a "
                           "simulated task (rig train)")  # fmt: skip
        self.config, self.out, self.progress = config, out, progress
        self.sample_goal_states, self.sample_goal_image = sample_goal_states, sample_goal_image
        torch.manual_seed(config.seed)  # before any network is initialised
        self.agent = RIGAgent(config, state_dim, action_dim, device)
        size = config.vae.image_size
        image_shape = None if self.agent.vae is None else (size, size, 3)  # the images behind the latents
        fractions, reward = config.replay.relabel.fractions(), make_reward(config, self.agent.vae)
        obs_dtype = np.float32 if len(self.agent.obs_shape) == 1 else np.uint8
        self.buffer = RelabelingReplayBuffer(config.replay.capacity, self.agent.obs_shape, action_dim, fractions,
                                             image_shape, reward, obs_dtype)  # fmt: skip
        self.log = ReplayLog(out / "replay")
        self.rng = np.random.default_rng(config.seed)
        self.counters = Counters()
        self.recent: dict[str, list[float]] = defaultdict(list)
        self.pretraining: Pretraining | None = None
        self._clock = time.perf_counter()
        self._mark = self._snapshot()  # the start of the run

    # ----- experience ------------------------------------------------------------------------------------
    def add_episode(self, episode: Episode, metadata: dict[str, str] | None = None) -> None:
        """Persist a finished episode (before training on it: a crash loses nothing stored), then store it;
        ``metadata`` goes into its replay-log file (ReplayLog.metadata reads it back)."""
        self.log.append(episode, metadata)
        self.buffer.add_episode(episode)
        self.counters.env_steps += len(episode)
        self.counters.episodes += 1

    def sample_goals(self, count: int) -> np.ndarray:
        """Imagined goals (VAE prior); for the Oracle, true goal states from the task's goal distribution; for the
        image baselines, rendered goals of that distribution as the policy sees them (encoded, or images)."""
        if self.config.oracle and self.sample_goal_states is not None:
            return self.sample_goal_states(self.rng, count).astype(np.float32)
        if self.config.method is not Method.RIG and self.sample_goal_image is not None:
            return self.agent.encode_goal(np.stack([self.sample_goal_image(self.rng) for _ in range(count)]))
        return self.agent.sample_prior(count, self.rng)

    # ----- learning --------------------------------------------------------------------------------------
    def train_td3(self, env_steps: int) -> None:
        """The updates owed for one env step (none before `min_steps_before_training` or with an empty buffer)."""
        train_cfg = self.config.train
        if env_steps < train_cfg.min_steps_before_training or len(self.buffer) == 0:
            return
        for _ in range(train_cfg.updates_per_step):
            stats = self.agent.td3_update(self.buffer.sample(self.config.td3.batch_size, self.rng, self.sample_goals))
            for name, value in stats._asdict().items():
                self.recent[name].append(value)

    def pretrain_vae(self, images: np.ndarray) -> None:
        """Pretrain on random-exploration images (or load `train.vae_from`'s pretrained VAE), then checkpoint.
        Pretraining continues at the epoch `self.pretraining` says (restored from a checkpoint), with the same
        split; every epoch starts at a mark."""
        source = self.config.train.vae_from
        if source is None:
            if self.pretraining is None:
                self.pretraining = Pretraining(self.rng.permutation(len(images)))
            stats = pretrain_vae(self.agent, images, self.config.vae, self.rng, self.progress, self.pretraining, self.mark)
            self._record_vae(stats[0])
            save_pretrained_vae(self.agent, self.out / PRETRAINED_VAE)
        else:
            load_pretrained_vae(self.agent, Path(source) / PRETRAINED_VAE)
        self.pretraining = None
        self.counters.vae_pretrained = True
        self.checkpoint()

    def maybe_vae_phase(self) -> bool:
        """Fine-tune the VAE on replay images when the online schedule says so (latents are then refreshed);
        True if it did."""
        vae_cfg = self.config.vae
        if self.agent.vae is None or not vae_cfg.online_every or not self.due("last_vae_phase", vae_cfg.online_every):
            return False
        self._record_vae(online_vae_phase(self.agent, self.buffer, vae_cfg, self.rng))
        return True

    def pop_recent(self, name: str) -> float:
        """Mean of a loss recorded since the last call (NaN if none), for the metrics row."""
        values = [v for v in self.recent.pop(name, []) if not np.isnan(v)]
        return float(np.mean(values)) if values else float("nan")

    # ----- persistence -----------------------------------------------------------------------------------
    def mark(self) -> None:
        """Remember the run as it is now as its last consistent point, the state `checkpoint_at_mark` saves."""
        self._mark = self._snapshot()

    def checkpoint(self) -> None:
        """Save everything needed to continue (a mark too), then drop replay files the buffer no longer holds."""
        self._mark = self._snapshot()
        save_checkpoint(self.out / "checkpoint", self.config, *self._mark)
        self.counters.last_checkpoint = self.counters.env_steps
        self.log.prune(self.config.replay.capacity)

    def checkpoint_at_mark(self) -> Counters:
        """On an interrupt: save the last mark, with the wall time spent until now (it never goes back), and drop
        the replay-log episodes stored after it (a resumed run collects them again, identically). Returns the
        counters saved."""
        self.tick()
        tensors, state = self._mark
        counters = Counters(**(state["counters"] | {"wall_time_s": self.counters.wall_time_s}))
        save_checkpoint(self.out / "checkpoint", self.config, tensors, state | {"counters": asdict(counters)})
        self.log.truncate(counters.episodes)
        return counters

    def restore(self) -> None:
        """Continue from out/checkpoint and every episode in the replay log (none is lost)."""
        checkpoint = load_checkpoint(self.out / "checkpoint")
        tensors, state = checkpoint.tensors, checkpoint.state
        self.agent.load_tensors(tensors)
        torch.set_rng_state(tensors["rng.torch"])
        self.rng.bit_generator.state = state["numpy_rng"]
        self.counters = Counters(**state["counters"])
        self.agent.td3.updates = state["td3_updates"]
        self.agent.vae_steps = state["vae_steps"]
        prefix = "recent."
        self.recent = defaultdict(list, {k[len(prefix) :]: v.tolist() for k, v in tensors.items() if k.startswith(prefix)})
        if "vae_pretraining.order" in tensors:
            self.pretraining = Pretraining(tensors["vae_pretraining.order"].numpy(), state["vae_pretraining_epochs"])
        self._restore_buffer(tensors.get("buffer.obs"), tensors.get("buffer.next_obs"))
        self.mark()

    def _restore_buffer(self, obs: torch.Tensor | None, next_obs: torch.Tensor | None) -> None:
        """Refill the buffer from the replay log, each checkpointed transition in its old slot with its saved latents;
        episodes logged after the checkpoint (a crash) are added too, and then every latent is encoded again."""
        logged = list(self.log.read())
        saved = [episode for index, episode in logged if index < self.counters.episodes]
        self.buffer.place_next_at(self.counters.env_steps - sum(len(episode) for episode in saved))
        for episode in saved:
            self.buffer.add_episode(episode)
        if obs is not None and next_obs is not None:
            if len(obs) != len(self.buffer):
                raise RigError(f"checkpoint in {self.out} does not match its replay log: {len(obs)} latents saved, "
                               f"{len(self.buffer)} logged transitions")  # fmt: skip
            self.buffer.obs[: len(obs)], self.buffer.next_obs[: len(obs)] = obs.numpy(), next_obs.numpy()
        for index, episode in logged:
            if index >= self.counters.episodes:  # finished after the checkpoint: still counts, nothing lost
                self.buffer.add_episode(episode)
                self.counters.env_steps += len(episode)
                self.counters.episodes = index + 1
        exact = obs is not None and len(saved) == len(logged)
        if self.buffer.obs_image is not None and len(self.buffer) and not exact:
            self.buffer.refresh_latents(self.agent.encode)

    def _snapshot(self) -> Snapshot:
        """A copy of everything a checkpoint holds, as it is now."""
        self.tick()
        tensors = {name: tensor.clone() for name, tensor in self.agent.tensors().items()}
        tensors["rng.torch"] = torch.get_rng_state()
        tensors |= {f"recent.{name}": torch.tensor(values, dtype=torch.float64) for name, values in self.recent.items()}
        if self.buffer.obs_image is not None:  # latents (re-encoded by online VAE phases); the log has the rest
            size = len(self.buffer)
            tensors["buffer.obs"] = torch.from_numpy(self.buffer.obs[:size].copy())
            tensors["buffer.next_obs"] = torch.from_numpy(self.buffer.next_obs[:size].copy())
        state: dict[str, Any] = {
            "counters": asdict(self.counters),
            "numpy_rng": self.rng.bit_generator.state,
            "td3_updates": self.agent.td3.updates,
            "vae_steps": self.agent.vae_steps,
        }
        if self.pretraining is not None:
            tensors["vae_pretraining.order"] = torch.from_numpy(self.pretraining.order.copy())
            state["vae_pretraining_epochs"] = self.pretraining.epochs_done
        return tensors, state

    # ----- helpers -----------------------------------------------------------------------------------------
    def due(self, counter: str, every: int) -> bool:
        """True (and the counter moved on) when `every` env steps have passed since `counter`."""
        if self.counters.env_steps - getattr(self.counters, counter) < every:
            return False
        setattr(self.counters, counter, self.counters.env_steps)
        return True

    def tick(self) -> None:
        """Add the wall time since the last tick to the run's total."""
        now = time.perf_counter()
        self.counters.wall_time_s += now - self._clock
        self._clock = now

    def _record_vae(self, stats: VAEStats) -> None:
        for name, value in zip(("vae_loss", "vae_reconstruction", "vae_kl"), stats):
            self.recent[name].append(value)
