"""`rig train`: the single-process RIG run (VAE pretraining, then TD3 with relabelling and online VAE phases).

Output directory:
  metrics.csv          one row per evaluation (env_steps, wall time, losses, final distances)
  tensorboard/         the same rows and the vae_samples grids as TensorBoard event files
  learning_curve.png   final distances against env steps
  vae_samples.png      labelled rows: replay images (exploration images until TD3 starts), their VAE
                       reconstructions, imagined goals (decoded prior samples)
  vae_pretrained.safetensors  the VAE and goal prior right after pretraining (reusable: train.vae_from)
  vae_images/          the random-exploration images, while the VAE pretrains on them
  checkpoint/          safetensors + JSON (see checkpoint.py)
  replay/              the replay log: every finished episode, written before it is trained on

Ctrl-C saves the run as it was at its last consistent point (the start of the episode, online VAE phase,
evaluation or pretraining epoch it was in, or of the image collection), so `--resume` repeats the interrupted
work and ends exactly as the uninterrupted run would have.
"""

from __future__ import annotations

import ctypes
import functools
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rig_core.checkpoint import load_checkpoint
from rig_core.config import RigConfig
from rig_core.envs import SawyerImageTask, make_task
from rig_core.errors import RigError, wraps_interrupt
from rig_core.evaluation import PRIMARY_METRIC, evaluate, observe
from rig_core.files import input_dir, output_dir
from rig_core.image_store import ImageStore
from rig_core.images import write_rgb
from rig_core.learner import Counters, Learner
from rig_core.noise import OUNoise
from rig_core.replay import Episode
from rig_core.reporting import MetricsCSV, plot_learning_curve, vae_grid
from rig_core.tensorboard_log import TensorBoardLog
from rig_core.vae_training import collect_vae_images

EVAL_SEED_OFFSET = 1_000_003
"""Evaluation goals come from their own stream, fresh at every evaluation as in the authors' runs (a fixed set of
10 goals per seed made the reacher's score depend on how many unreachable goals that set happened to hold)."""


class Run:
    """One `rig train` run: the simulated task collects episodes for a Learner, and is evaluated on goal images."""

    def __init__(self, config: RigConfig, out: Path, device: str = "cpu", progress: bool = True) -> None:
        self.config, self.out, self.progress = config, out, progress
        self.env: SawyerImageTask = make_task(config.task, config.vae.image_size, config.seed)
        action_dim = self.env.action_space.shape[0]
        env = self.env
        self.learner = Learner(config, out, env.state_dim, action_dim, device, env.sample_goal_states, progress,
                               lambda rng: env.render_state(env.sample_goal_state(rng)))  # fmt: skip
        self.agent, self.rng, self.buffer = self.learner.agent, self.learner.rng, self.learner.buffer
        self.metrics = MetricsCSV(out / "metrics.csv")
        self.noise = OUNoise(action_dim, config.exploration.ou_theta, config.exploration.ou_sigma, self.rng)

    @property
    def counters(self) -> Counters:
        return self.learner.counters

    @functools.cached_property
    def tensorboard(self) -> TensorBoardLog:
        """Opened when training starts (after a resume's restore, before anything moves on): TensorBoard then hides
        what was logged after the checkpoint, as the metrics rows dropped."""
        return TensorBoardLog(self.out, purge_after=self.counters.last_eval)

    def restore(self) -> None:
        """Continue from out/checkpoint and every episode in the replay log (none is lost). Metrics rows written
        after the checkpoint go: the training they measured was lost (a crash), and counters must not go back."""
        self.learner.restore()
        dropped = self.metrics.drop_after(self.counters.last_eval)
        if dropped:
            _say(f"{self.out}: {dropped} metrics row(s) after the checkpoint dropped (their training was lost; "
                 "every stored episode is kept)")  # fmt: skip

    @property
    def complete(self) -> bool:
        """Every env step of the budget done and evaluated: nothing is left to do."""
        done = self.counters.env_steps
        return done >= self.config.train.env_steps and self.counters.last_eval == done

    def checkpoint_interrupted(self) -> None:
        """Save the run as it was at its last mark (see `Learner.checkpoint_at_mark`), without the metrics rows of
        evaluations after it."""
        self.metrics.drop_after(self.learner.checkpoint_at_mark().last_eval)

    def train(self) -> dict[str, float]:
        """Run to `config.train.env_steps`; returns the last evaluation's metrics. Marks the run after each step of
        its loop (episode, online VAE phase, evaluation), so an interrupt loses at most the step it was in."""
        learner = self.learner
        _ = self.tensorboard  # opened now: its purge point is the restored run's last evaluation
        if self.agent.vae is not None and not self.counters.vae_pretrained:
            self._pretrain_vae()
        ImageStore(self.out / "vae_images").clear()  # its images are in the VAE now (any an interrupt left)
        train_cfg = self.config.train
        bar = tqdm(total=train_cfg.env_steps, initial=self.counters.env_steps, desc="rig train", unit="step",
                   disable=not self.progress)  # fmt: skip
        last_metrics: dict[str, float] = {}
        while True:  # what is due after an episode comes first: a resumed run may owe it
            if learner.maybe_vae_phase():
                learner.mark()
            if learner.due("last_eval", train_cfg.eval_every):
                last_metrics = self._evaluate()
                bar.set_postfix({PRIMARY_METRIC[self.config.task]: f"{last_metrics[PRIMARY_METRIC[self.config.task]]:.3f}"})
            if learner.due("last_checkpoint", train_cfg.checkpoint_every):
                learner.checkpoint()
            if self.counters.env_steps >= train_cfg.env_steps:
                break
            bar.update(self._collect_episode())
            learner.mark()
        bar.close()
        if self.counters.last_eval != self.counters.env_steps:
            last_metrics = self._evaluate()
        if self.counters.last_checkpoint != self.counters.env_steps:
            learner.checkpoint()
        return last_metrics or self._last_evaluation()

    def _pretrain_vae(self) -> None:
        """Collect random-exploration images (kept in vae_images/ until pretraining ends), pretrain on them."""
        vae_cfg, store = self.config.vae, ImageStore(self.out / "vae_images")
        if self.learner.pretraining is None:  # not started at the last mark: collect (again) from there
            count = vae_cfg.num_images if self.config.train.vae_from is None else 8  # a reused VAE: images for the grid
            images = collect_vae_images(self.env, count, vae_cfg, self.config.exploration, self.rng)
            store.clear()
            store.append(images)
        else:
            images = store.load()
        self.learner.pretrain_vae(images)
        self._save_vae_grid(images[:8], "exploration images")

    def _last_evaluation(self) -> dict[str, float]:
        """The final distances of the last metrics row (a resumed run that had nothing left to evaluate)."""
        rows = self.metrics.read()
        return {name: value for name, value in rows[-1].items() if name.startswith("final_")} if rows else {}

    def _collect_episode(self) -> int:
        """One exploration episode towards an imagined goal, with TD3 updates after every env step."""
        image, _ = self.env.reset(seed=int(self.rng.integers(2**31)))
        goal = self.learner.sample_goals(1)[0]
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
            self.learner.train_td3(self.counters.env_steps + step + 1)
        episode = Episode(
            obs=np.stack(rows["obs"]),
            action=np.stack(rows["action"]),
            next_obs=np.stack(rows["next_obs"]),
            goal=np.repeat(goal[None], len(rows["obs"]), axis=0),
            obs_image=None if self.agent.vae is None else np.stack(rows["obs_image"]),
            next_obs_image=None if self.agent.vae is None else np.stack(rows["next_obs_image"]),
        )
        self.learner.add_episode(episode)
        return len(episode)

    def _evaluate(self) -> dict[str, float]:
        learner, train_cfg = self.learner, self.config.train
        stream = np.random.SeedSequence([self.config.seed, EVAL_SEED_OFFSET, self.counters.env_steps])
        eval_seed = int(stream.generate_state(1)[0])
        metrics = evaluate(self.agent, self.env, train_cfg.eval_episodes, eval_seed)
        learner.tick()
        row: dict[str, float | int] = {
            "env_steps": self.counters.env_steps,
            "episodes": self.counters.episodes,
            "wall_time_s": round(self.counters.wall_time_s, 2),
            "td3_updates": self.agent.td3.updates,
            "vae_steps": self.agent.vae_steps,
        }
        for name in ("critic_loss", "actor_loss", "q_mean", "vae_loss", "vae_reconstruction", "vae_kl"):
            row[name] = learner.pop_recent(name)
        row |= metrics
        self.metrics.append(row)
        self.tensorboard.scalars(row)
        self.counters.last_eval = self.counters.env_steps
        self.learner.mark()
        distance_names = [name for name in metrics if name.startswith("final_") and name != "final_latent_distance"]
        replay = self.config.replay
        mode = (
            "Oracle"
            if self.config.oracle
            else f"{self.config.method.value} ({replay.relabel.value} relabelling, {replay.reward.value} reward)"
        )
        plot_learning_curve(self.metrics.read(), distance_names, self.out / "learning_curve.png",
                            f"{self.config.task}, {mode}, seed {self.config.seed}")  # fmt: skip
        if self.agent.vae is not None:
            self._save_vae_grid(self.buffer.sample_images(8, np.random.default_rng(0)), "replay images")
        return metrics

    def _save_vae_grid(self, images: np.ndarray, source: str) -> None:
        grid = vae_grid(self.agent, images, source)
        write_rgb(self.out / "vae_samples.png", grid)
        self.tensorboard.image("vae/samples", grid, self.counters.env_steps)


def train(config: RigConfig, out: Path, device: str = "cpu", progress: bool = True) -> dict[str, float]:
    """Start a new run in `out`; returns the final evaluation metrics."""
    if (out / "checkpoint").exists() or (out / "metrics.csv").exists() or (out / "replay").exists():
        raise RigError(f"{out} already holds a run: continue it with --resume {out}, or choose another --out")
    output_dir(out, "--out")
    return _execute(Run(config, out, device, progress), restore=False)


def resume(out: Path, env_steps: int | None = None, device: str = "cpu", progress: bool = True) -> dict[str, float]:
    """Continue the run in `out` from its checkpoint and replay log, optionally to a new env-step budget."""
    input_dir(out, "--resume")
    config = load_checkpoint(out / "checkpoint").config
    output_dir(out, "--resume")
    if env_steps is not None:
        config = replace(config, train=replace(config.train, env_steps=env_steps))
    return _execute(Run(config, out, device, progress), restore=True)


def _execute(run: Run, restore: bool) -> dict[str, float]:
    try:
        if restore:
            run.restore()
            done, budget = run.counters.env_steps, run.config.train.env_steps
            if run.complete:
                _say(f"nothing to do: {run.out} has {done} env steps (budget {budget}); give --env-steps above {done} "
                     "to train it further")  # fmt: skip
                rows = run.metrics.read()
                return {name: value for name, value in rows[-1].items() if name.startswith("final_")} if rows else {}
            _say(f"continuing {run.out} from {done} to {budget} env steps")
        try:
            return run.train()
        except KeyboardInterrupt:
            run.checkpoint_interrupted()
            raise
        except ctypes.ArgumentError as error:
            if not wraps_interrupt(error):
                raise
            run.checkpoint_interrupted()
            raise
    finally:
        run.env.close()
        if "tensorboard" in vars(run):  # opened
            run.tensorboard.close()



def _say(message: str) -> None:
    print(f"rig train: {message}", file=sys.stderr, flush=True)
