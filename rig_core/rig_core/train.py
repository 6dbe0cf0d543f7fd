"""`rig train`: the single-process RIG run (VAE pretraining, then TD3 with relabelling and online VAE phases).

Output directory:
  metrics.csv          one row per evaluation (env_steps, wall time, losses, final distances)
  learning_curve.png   final distances against env steps
  vae_samples.png      rows: test images, reconstructions, imagined goals (decoded prior samples)
  vae_pretrained.safetensors  the VAE and goal prior right after pretraining (reusable: train.vae_from)
  checkpoint/          safetensors + JSON (see checkpoint.py)
  replay/              the replay log: every finished episode, written before it is trained on
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from rig_core.agent import RIGAgent, VAEStats
from rig_core.checkpoint import load_checkpoint, save_checkpoint
from rig_core.config import RigConfig
from rig_core.envs import SawyerImageTask, make_task
from rig_core.errors import RigError
from rig_core.evaluation import PRIMARY_METRIC, evaluate, observe
from rig_core.noise import OUNoise
from rig_core.replay import Episode, RelabelingReplayBuffer
from rig_core.replay_log import ReplayLog
from rig_core.reporting import MetricsCSV, plot_learning_curve, save_image_grid
from rig_core.vae_training import (
    PRETRAINED_VAE,
    collect_vae_images,
    load_pretrained_vae,
    online_vae_phase,
    pretrain_vae,
    save_pretrained_vae,
)

EVAL_SEED_OFFSET = 1_000_003  # evaluation goals differ from training seeds but are the same at every evaluation


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


class Run:
    """One training run in one output directory."""

    def __init__(self, config: RigConfig, out: Path, device: str = "cpu", progress: bool = True) -> None:
        self.config, self.out, self.progress = config, out, progress
        torch.manual_seed(config.seed)  # before any network is initialised
        self.env: SawyerImageTask = make_task(config.task, config.vae.image_size, config.seed)
        state_dim, action_dim = self.env.state_dim, self.env.action_space.shape[0]
        self.agent = RIGAgent(config, state_dim, action_dim, device)
        image_shape = None if config.oracle else (config.vae.image_size, config.vae.image_size, 3)
        self.buffer = RelabelingReplayBuffer(
            config.replay.capacity, self.agent.obs_dim, action_dim, config.replay.relabel.fractions(), image_shape
        )
        self.log = ReplayLog(out / "replay")
        self.metrics = MetricsCSV(out / "metrics.csv")
        self.rng = np.random.default_rng(config.seed)
        self.noise = OUNoise(action_dim, config.exploration.ou_theta, config.exploration.ou_sigma, self.rng)
        self.counters = Counters()
        self.recent: dict[str, list[float]] = defaultdict(list)
        self._clock = time.perf_counter()

    # ----- lifecycle -------------------------------------------------------------------------------------
    def restore(self) -> None:
        """Continue from out/checkpoint and every episode in the replay log (none is lost)."""
        checkpoint = load_checkpoint(self.out / "checkpoint")
        self.agent.load_tensors(checkpoint.tensors)
        torch.set_rng_state(checkpoint.tensors["rng.torch"])
        self.rng.bit_generator.state = checkpoint.state["numpy_rng"]
        self.counters = Counters(**checkpoint.state["counters"])
        self.agent.td3.updates = checkpoint.state["td3_updates"]
        self.agent.vae_steps = checkpoint.state["vae_steps"]
        for index, episode in self.log.read():
            self.buffer.add_episode(episode)
            if index >= self.counters.episodes:  # finished after the checkpoint: still counts, nothing lost
                self.counters.env_steps += len(episode)
                self.counters.episodes = index + 1
        if self.buffer.obs_image is not None and len(self.buffer):
            self.buffer.refresh_latents(self.agent.encode)

    def checkpoint(self) -> None:
        """Save everything needed to continue, then drop replay files the buffer no longer holds."""
        self._tick()
        tensors = self.agent.tensors() | {"rng.torch": torch.get_rng_state()}
        state = {
            "counters": vars(self.counters),
            "numpy_rng": self.rng.bit_generator.state,
            "td3_updates": self.agent.td3.updates,
            "vae_steps": self.agent.vae_steps,
        }
        save_checkpoint(self.out / "checkpoint", self.config, tensors, state)
        self.counters.last_checkpoint = self.counters.env_steps
        self.log.prune(self.config.replay.capacity)

    def train(self) -> dict[str, float]:
        """Run to `config.train.env_steps`; returns the last evaluation's metrics."""
        if not self.config.oracle and not self.counters.vae_pretrained:
            self._pretrain_vae()
        train_cfg = self.config.train
        bar = tqdm(total=train_cfg.env_steps, initial=self.counters.env_steps, desc="rig train", unit="step",
                   disable=not self.progress)  # fmt: skip
        last_metrics: dict[str, float] = {}
        while self.counters.env_steps < train_cfg.env_steps:
            steps = self._collect_episode()
            bar.update(steps)
            vae_cfg = self.config.vae
            if not self.config.oracle and vae_cfg.online_every and self._due("last_vae_phase", vae_cfg.online_every):
                self._record_vae(online_vae_phase(self.agent, self.buffer, vae_cfg, self.rng))
            if self._due("last_eval", train_cfg.eval_every):
                last_metrics = self._evaluate()
                bar.set_postfix({PRIMARY_METRIC[self.config.task]: f"{last_metrics[PRIMARY_METRIC[self.config.task]]:.3f}"})
            if self._due("last_checkpoint", train_cfg.checkpoint_every):
                self.checkpoint()
        bar.close()
        if self.counters.last_eval != self.counters.env_steps:
            last_metrics = self._evaluate()
        if self.counters.last_checkpoint != self.counters.env_steps:
            self.checkpoint()
        return last_metrics

    # ----- stages ----------------------------------------------------------------------------------------
    def _pretrain_vae(self) -> None:
        vae_cfg, source = self.config.vae, self.config.train.vae_from
        count = vae_cfg.num_images if source is None else 8  # with a reused VAE, images only for the grid
        images = collect_vae_images(self.env, count, vae_cfg.teleport_every, self.config.exploration, self.rng)
        if source is None:
            self._record_vae(pretrain_vae(self.agent, images, vae_cfg, self.rng, self.progress)[0])
            save_pretrained_vae(self.agent, self.out / PRETRAINED_VAE)
        else:
            load_pretrained_vae(self.agent, Path(source) / PRETRAINED_VAE)
        self._save_vae_grid(images[:8])
        self.counters.vae_pretrained = True
        self.checkpoint()

    def _collect_episode(self) -> int:
        """One exploration episode towards an imagined goal, with TD3 updates after every env step."""
        image, _ = self.env.reset(seed=int(self.rng.integers(2**31)))
        goal = self._sample_goals(1)[0]
        self.noise.reset()
        obs = observe(self.agent, self.env, image)
        rows: dict[str, list[np.ndarray]] = defaultdict(list)
        for step in range(self.env.horizon):
            action = self.noise.apply(self.agent.act(obs, goal))
            next_image, _, _, _, _ = self.env.step(action)
            next_obs = observe(self.agent, self.env, next_image)
            for name, value in (("obs", obs), ("action", action), ("next_obs", next_obs), ("obs_image", image),
                                ("next_obs_image", next_image)):  # fmt: skip
                rows[name].append(value)
            obs, image = next_obs, next_image
            self._train_td3(self.counters.env_steps + step + 1)
        episode = Episode(
            obs=np.stack(rows["obs"]),
            action=np.stack(rows["action"]),
            next_obs=np.stack(rows["next_obs"]),
            goal=np.repeat(goal[None], len(rows["obs"]), axis=0),
            obs_image=None if self.config.oracle else np.stack(rows["obs_image"]),
            next_obs_image=None if self.config.oracle else np.stack(rows["next_obs_image"]),
        )
        self.log.append(episode)  # persisted before it is trained on: a crash loses nothing stored
        self.buffer.add_episode(episode)
        self.counters.env_steps += len(episode)
        self.counters.episodes += 1
        return len(episode)

    def _train_td3(self, env_steps: int) -> None:
        train_cfg = self.config.train
        if env_steps < train_cfg.min_steps_before_training or len(self.buffer) == 0:
            return
        for _ in range(train_cfg.updates_per_step):
            batch = self.buffer.sample(self.config.td3.batch_size, self.rng, self._sample_goals)
            stats = self.agent.td3_update(batch)
            for name, value in stats._asdict().items():
                self.recent[name].append(value)

    def _sample_goals(self, count: int) -> np.ndarray:
        """Imagined goals (VAE prior) or, for the Oracle, true goal states from the task's goal distribution."""
        if self.config.oracle:
            return np.stack([self.env.sample_goal_state(self.rng) for _ in range(count)]).astype(np.float32)
        return self.agent.sample_prior(count, self.rng)

    def _evaluate(self) -> dict[str, float]:
        train_cfg = self.config.train
        metrics = evaluate(self.agent, self.env, train_cfg.eval_episodes, self.config.seed + EVAL_SEED_OFFSET)
        self._tick()
        row: dict[str, float | int] = {
            "env_steps": self.counters.env_steps,
            "episodes": self.counters.episodes,
            "wall_time_s": round(self.counters.wall_time_s, 2),
            "td3_updates": self.agent.td3.updates,
            "vae_steps": self.agent.vae_steps,
        }
        for name in ("critic_loss", "actor_loss", "q_mean", "vae_loss", "vae_reconstruction", "vae_kl"):
            values = [v for v in self.recent.pop(name, []) if not np.isnan(v)]
            row[name] = float(np.mean(values)) if values else float("nan")
        row |= metrics
        self.metrics.append(row)
        self.counters.last_eval = self.counters.env_steps
        distance_names = [name for name in metrics if name.startswith("final_") and name != "final_latent_distance"]
        mode = "Oracle" if self.config.oracle else f"RIG ({self.config.replay.relabel.value} relabelling)"
        plot_learning_curve(self.metrics.read(), distance_names, self.out / "learning_curve.png",
                            f"{self.config.task}, {mode}, seed {self.config.seed}")  # fmt: skip
        if not self.config.oracle:
            self._save_vae_grid(self.buffer.sample_images(8, np.random.default_rng(0)))
        return metrics

    # ----- helpers -----------------------------------------------------------------------------------------
    def _save_vae_grid(self, images: np.ndarray) -> None:
        imagined = self.agent.decode(self.agent.sample_prior(len(images), np.random.default_rng(0)))
        save_image_grid([images, self.agent.reconstruct(images), imagined], self.out / "vae_samples.png")

    def _record_vae(self, stats: VAEStats) -> None:
        for name, value in zip(("vae_loss", "vae_reconstruction", "vae_kl"), stats):
            self.recent[name].append(value)

    def _due(self, counter: str, every: int) -> bool:
        """True (and the counter moved on) when `every` env steps have passed since `counter`."""
        if self.counters.env_steps - getattr(self.counters, counter) < every:
            return False
        setattr(self.counters, counter, self.counters.env_steps)
        return True

    def _tick(self) -> None:
        now = time.perf_counter()
        self.counters.wall_time_s += now - self._clock
        self._clock = now


def train(config: RigConfig, out: Path, device: str = "cpu", progress: bool = True) -> dict[str, float]:
    """Start a new run in `out`; returns the final evaluation metrics."""
    if (out / "checkpoint").exists() or (out / "metrics.csv").exists() or (out / "replay").exists():
        raise RigError(f"{out} already holds a run: continue it with --resume {out}, or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    return _execute(Run(config, out, device, progress), restore=False)


def resume(out: Path, env_steps: int | None = None, device: str = "cpu", progress: bool = True) -> dict[str, float]:
    """Continue the run in `out` from its checkpoint and replay log, optionally to a new env-step budget."""
    config = load_checkpoint(out / "checkpoint").config
    if env_steps is not None:
        config = replace(config, train=replace(config.train, env_steps=env_steps))
    return _execute(Run(config, out, device, progress), restore=True)


def _execute(run: Run, restore: bool) -> dict[str, float]:
    try:
        if restore:
            run.restore()
        try:
            return run.train()
        except KeyboardInterrupt:
            run.checkpoint()
            raise
    finally:
        run.env.close()
