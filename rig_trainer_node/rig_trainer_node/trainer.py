"""The trainer's learning loop, free of any middleware: finished episodes in, weights bundles out.

A background thread owns the rig_core Learner (the same one `rig train` uses), so nothing else touches it:
the subscription thread only hands finished episodes over through a queue (it never waits for training, and
the transition queue keeps draining), and status reads an immutable Progress snapshot the thread replaces.

Before the VAE is pretrained, episodes are random-exploration data: their images are kept on disk until
``vae.num_images`` are there, then the VAE is pretrained on them. Afterwards every episode is encoded, stored
(the replay log persists it first) and owes ``train.updates_per_step`` TD3 updates per env step; episodes that
arrive meanwhile are stored at once, so an episode waits in memory only while one env step trains.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from itertools import chain
from pathlib import Path

import numpy as np

from rig_core.checkpoint import load_checkpoint
from rig_core.config import RigConfig, apply_overrides
from rig_core.errors import RigError
from rig_core.image_store import ImageStore
from rig_core.learner import Learner
from rig_core.replay import Episode
from rig_core.reporting import MetricsCSV, vae_grid
from rig_core.tensorboard_log import TensorBoardLog
from rig_core.vae_training import PRETRAINED_VAE
from rig_core.weights import WeightsBundle, pack_policy_weights
from rig_trainer_node.assembler import AssembledEpisode
from rig_trainer_node.dedup import DeliveryLedger, EpisodeKey, identity_metadata
from rig_trainer_node.storage import VersionCounter
from rig_transport import Logger

ACTION_DIM = 2
"""Every task moves the hand in the plane (the action space of rig_core's SawyerImageTask)."""
POLL_S = 0.2
"""How long the idle training thread waits for an episode before checking for weights, status and stop."""
LOSSES = ("critic_loss", "actor_loss", "vae_loss")


@dataclass(frozen=True)
class Progress:
    """A snapshot of the training state for status messages (replaced whole, so any thread may read it)."""

    env_steps: int = 0
    episodes: int = 0
    replay_size: int = 0
    gradient_steps: int = 0
    vae_steps: int = 0
    weights_version: int = 0
    critic_loss: float = math.nan
    actor_loss: float = math.nan
    vae_loss: float = math.nan


class Trainer:
    """Learner + background training thread + weights publication for one output directory."""

    def __init__(
        self,
        config: RigConfig,
        out: Path,
        publish: Callable[[WeightsBundle], None],
        log: Logger,
        on_error: Callable[[str], None],
        weights_every_s: float = 5.0,
        report_every_s: float = 1.0,
        on_stored: Callable[[AssembledEpisode], None] | None = None,
        publish_samples: Callable[[np.ndarray], None] | None = None,
    ) -> None:
        """Resume from ``out/checkpoint`` (and the replay log) when it exists; its saved config then wins.

        ``publish``, ``on_stored`` (an episode is stored durably and in ``ledger``) and ``publish_samples`` (the VAE
        grid, `vae_grid`, after each VAE phase) are called from the training thread; ``on_error`` gets a one-line
        description of a problem.
        """
        if config.oracle:
            raise RigError("the trainer node learns from images; the Oracle baseline is `rig train --oracle`")
        out.mkdir(parents=True, exist_ok=True)
        resuming = (out / "checkpoint" / "state.json").is_file()  # written last: a complete checkpoint
        if resuming:
            saved = load_checkpoint(out / "checkpoint").config
            if saved != config:
                log.warning("%s holds a run with another config; continuing it with its saved config", out)
            config = saved
        elif config.train.vae_from is not None and not (Path(config.train.vae_from) / PRETRAINED_VAE).is_file():
            raise RigError(f"vae_from: {config.train.vae_from} holds no {PRETRAINED_VAE}")
        self.config, self.out, self.log = config, out, log
        self.learner = Learner(config, out, state_dim=0, action_dim=ACTION_DIM)  # state_dim matters only to the Oracle
        if resuming:
            self.learner.restore()
            counters = self.learner.counters
            log.info("resumed %s: %d env steps in %d episodes, %d transitions in the replay buffer",
                     out, counters.env_steps, counters.episodes, len(self.learner.buffer))  # fmt: skip
        self.images = ImageStore(out / "vae_images")
        self.ledger = DeliveryLedger(out / "delivered.sqlite", chain(self.learner.log.metadata(), self.images.metadata()))
        self.versions = VersionCounter(out / "weights_version.json")
        self.metrics = MetricsCSV(out / "metrics.csv")
        self.tensorboard = TensorBoardLog(out)
        self._publish, self._on_error, self._on_stored = publish, on_error, on_stored
        self._publish_samples = publish_samples
        self._weights_every_s, self._report_every_s = weights_every_s, report_every_s
        self._episodes: queue.Queue[AssembledEpisode] = queue.Queue()
        self.pending: set[EpisodeKey] = set()
        """Episodes submitted and not yet stored (nor failed): the node drops their re-sent copies."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trainer", daemon=True)
        self._pretraining = False
        self._owed = 0  # env steps stored but not yet trained for
        self._published: tuple[int, int] | None = None  # (TD3 updates, VAE steps) of the last published weights
        self._published_at = -math.inf
        self._reported_at = -math.inf
        self._losses = dict.fromkeys(LOSSES, math.nan)
        self.progress = Progress()
        self._report()

    @property
    def pretrained(self) -> bool:
        return self.learner.counters.vae_pretrained

    def submit(self, episode: AssembledEpisode) -> None:
        """Hand over a finished episode (any thread; never blocks); it is in ``pending`` until stored or failed."""
        self.pending.add(episode.key)
        self._episodes.put(episode)

    def start(self) -> None:
        """Start the training thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop training, store the episodes still queued and checkpoint (not in the middle of VAE pretraining,
        which starts again from the stored images next time)."""
        self._stop.set()
        while self._thread.is_alive():
            self._thread.join(POLL_S)
            if self._pretraining:
                self.log.warning("stopping during VAE pretraining; it starts again from the stored images")
                return
        self._take_episodes(block=False)
        if self.pretrained:
            self._checkpoint()
        self.tensorboard.close()
        self.ledger.close()

    # ----- the training thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._work()
            except Exception as error:  # the thread must outlive any failure (disk full, a bad episode, ...)
                self.log.exception("training step failed; the trainer carries on")
                self._on_error(f"training step failed: {error}")
                self._stop.wait(1.0)

    def learn_from(self, episodes: Iterable[AssembledEpisode]) -> int:
        """Take recorded episodes in order, as the training thread takes live ones arriving one by one: their images
        until the VAE pretrains, then the replay buffer, each episode's TD3 updates trained before the next one is
        taken; then checkpoint. Call it before start(). Returns the number of episodes taken."""
        taken = 0
        for episode in episodes:
            self._pretrain_if_ready()
            if self.pretrained:
                self._store(episode)
                while self._owed:
                    self._train_one()
            else:
                self._gather(episode)
            taken += 1
        self._pretrain_if_ready()
        if self.pretrained:
            self._checkpoint()
        return taken

    def _work(self) -> None:
        self._pretrain_if_ready()
        self._take_episodes(block=self._owed == 0)
        if self._owed and not self._stop.is_set():
            self._train_one()
        self._maybe_publish()
        if time.monotonic() - self._reported_at >= self._report_every_s:
            self._report()

    def _take_episodes(self, block: bool) -> None:
        """Store (or gather, before pretraining) every queued episode; wait up to POLL_S for one if ``block``.
        Once stopping, store only: online VAE phases and checkpoints are left to stop() and the next run."""
        try:
            episode = self._episodes.get(timeout=POLL_S) if block else self._episodes.get_nowait()
            while True:
                self._take(episode)
                episode = self._episodes.get_nowait()
        except queue.Empty:
            return

    def _take(self, episode: AssembledEpisode) -> None:
        """Store or gather an episode, once: a copy of one stored already is only acknowledged again."""
        try:
            if episode.key in self.ledger:
                self._acknowledge(episode)
            elif self.pretrained:
                self._store(episode, finishing=self._stop.is_set())
            else:
                self._gather(episode)
        finally:
            self.pending.discard(episode.key)

    def _gather(self, episode: AssembledEpisode) -> None:
        self.images.append(np.concatenate([episode.obs_image, episode.next_obs_image[-1:]]), identity_metadata(episode.key))
        self._stored(episode)
        self.log.info("random-exploration images: %d of the %d the VAE pretrains on",
                      self.images.count, self.config.vae.num_images)  # fmt: skip

    def _train_one(self) -> None:
        """One env step's TD3 updates, of the oldest env step still owed."""
        self.learner.train_td3(self.learner.counters.env_steps - self._owed + 1)
        self._owed -= 1

    def _pretrain_if_ready(self) -> None:
        if not self.pretrained and self._ready_to_pretrain():
            self._pretrain()

    def _ready_to_pretrain(self) -> bool:
        return self.config.train.vae_from is not None or self.images.count >= self.config.vae.num_images

    def _pretrain(self) -> None:
        """Pretrain the VAE on the stored images (or load train.vae_from's); Learner.pretrain_vae checkpoints."""
        size = self.config.vae.image_size
        from_run = self.config.train.vae_from is not None
        images = np.zeros((0, size, size, 3), np.uint8) if from_run else self.images.load()
        self.log.info("loading the VAE pretrained in %s" if from_run else "pretraining the VAE on %d images",
                      self.config.train.vae_from if from_run else len(images))  # fmt: skip
        self._pretraining = True
        try:
            self.learner.pretrain_vae(images)
        finally:
            self._pretraining = False
        if len(images):
            self._log_vae_images(images[:8], "exploration images")
        self.images.clear()
        self.log.info("VAE ready; TD3 trains on every episode from now on")

    def _store(self, episode: AssembledEpisode, finishing: bool = False) -> None:
        """Encode, persist and buffer an episode (it then owes its TD3 updates); online VAE phase and
        checkpoint when their cadence says so, as `rig train` does after every episode (not when ``finishing``:
        a backlog of episodes must not make a stop take minutes)."""
        learner, encode = self.learner, self.learner.agent.encode
        learner.add_episode(Episode(obs=encode(episode.obs_image), action=episode.action,
                                    next_obs=encode(episode.next_obs_image), goal=episode.goal,
                                    obs_image=episode.obs_image, next_obs_image=episode.next_obs_image),
                            identity_metadata(episode.key))  # fmt: skip
        self._stored(episode)
        self._owed += len(episode)
        self.log.debug("stored episode %d of %s (%d steps)", episode.episode_id, episode.robot_id, len(episode))
        if finishing:
            return
        if learner.maybe_vae_phase():
            self._log_vae_images(learner.buffer.sample_images(8, np.random.default_rng(0)), "replay images")
        if learner.due("last_checkpoint", self.config.train.checkpoint_every):
            self._checkpoint()

    def _stored(self, episode: AssembledEpisode) -> None:
        self.ledger.add(episode.key, len(episode))
        self._acknowledge(episode)

    def _acknowledge(self, episode: AssembledEpisode) -> None:
        if self._on_stored is not None:
            self._on_stored(episode)

    def _maybe_publish(self) -> None:
        """Publish the policy's weights when they changed and weights_every_s has passed (at once the first time)."""
        if not self.pretrained:
            return
        agent = self.learner.agent
        state, now = (agent.td3.updates, agent.vae_steps), time.monotonic()
        if state == self._published or (self._published is not None and now - self._published_at < self._weights_every_s):
            return
        bundle = pack_policy_weights(agent, self.versions.next())
        self._publish(bundle)
        self._published, self._published_at = state, now
        self.log.info("published weights version %d (%d TD3 updates, %d VAE steps)", bundle.version, *state)
        self._report()

    def _log_vae_images(self, images: np.ndarray, source: str) -> None:
        """After a VAE phase: the grid of ``images``, their reconstructions and imagined goals, to TensorBoard and
        to ``publish_samples``."""
        grid = vae_grid(self.learner.agent, images, source)
        self.tensorboard.image("vae/samples", grid, self.learner.counters.env_steps)
        if self._publish_samples is not None:
            self._publish_samples(grid)

    def _report(self) -> None:
        """Replace the Progress snapshot (and log it to TensorBoard when training moved on); losses are means since
        the previous report (kept when none came)."""
        learner = self.learner
        for name in LOSSES:
            value = learner.pop_recent(name)
            if not math.isnan(value):
                self._losses[name] = value
        progress = Progress(
            env_steps=learner.counters.env_steps,
            episodes=learner.counters.episodes,
            replay_size=len(learner.buffer),
            gradient_steps=learner.agent.td3.updates,
            vae_steps=learner.agent.vae_steps,
            weights_version=self.versions.value,
            **self._losses,
        )
        if (self.progress.env_steps, self.progress.gradient_steps) != (progress.env_steps, progress.gradient_steps):
            self.tensorboard.scalars(asdict(progress))
        self.progress = progress
        self._reported_at = time.monotonic()

    def _checkpoint(self) -> None:
        """Checkpoint the learner and add a row to metrics.csv."""
        self.learner.checkpoint()
        self._report()
        progress = self.progress
        self.metrics.append(asdict(progress) | {"wall_time_s": round(self.learner.counters.wall_time_s, 2)})
        self.log.info("checkpoint at %d env steps (%d episodes)", progress.env_steps, progress.episodes)


def trainer_config(base: RigConfig, seed: int, image_size: int, overrides: str, vae_from: str) -> RigConfig:
    """The run's config: ``base`` with the node's parameters; ``overrides`` holds ';'-separated
    ``section.field=value`` items (as `rig train --set`)."""
    items = [f"seed={seed}", f"vae.image_size={image_size}"] + [item.strip() for item in overrides.split(";") if item.strip()]
    if vae_from:
        items.append(f"train.vae_from={vae_from}")
    return apply_overrides(base, items)
