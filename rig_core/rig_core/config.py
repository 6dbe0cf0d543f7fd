"""Typed, frozen hyperparameters: one `RigConfig` per task, every number of a run in one place.

The defaults follow the authors' paper-era runs (see `shared/RIG_REFERENCE.md` §2a); deviations are
commented where they are made. `apply_overrides` turns `section.field=value` strings into a new config.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from rig_core.errors import RigError


class RelabelStrategy(str, Enum):
    """Which goals a sampled transition is relabelled with (the paper's relabelling ablation)."""

    NONE = "none"  # always the rollout's own goal
    FUTURE = "future"  # HER "future" (with the authors' 20% rollout goals)
    PRIOR = "prior"  # VAE-prior goals only ("VAE" in the ablation), with 50% rollout goals
    RIG = "rig"  # the paper's mix: 10% rollout / 40% future / 50% prior

    def fractions(self) -> tuple[float, float, float]:
        """Return (rollout, future, prior) fractions for this strategy."""
        return {
            RelabelStrategy.NONE: (1.0, 0.0, 0.0),
            RelabelStrategy.FUTURE: (0.2, 0.8, 0.0),
            RelabelStrategy.PRIOR: (0.5, 0.0, 0.5),
            RelabelStrategy.RIG: (0.1, 0.4, 0.5),
        }[self]


class Method(str, Enum):
    """What turns images into the policy's observations and goals: RIG or one of the paper's baselines."""

    RIG = "rig"  # beta-VAE latents, imagined goals
    HER_PIXELS = "her-pixels"  # HER on raw images through conv encoders trained by the RL losses
    DSAE = "dsae"  # deep spatial autoencoder feature points (Finn et al. 2016)
    LR = "lr"  # a plain deterministic autoencoder's code (Lange & Riedmiller 2010)


class RewardKind(str, Enum):
    """RIG's relabelled reward (the paper's reward ablation); the baselines use their own distance."""

    LATENT = "latent"  # -||z' - z_g||: latent distance (RIG; the code/feature distance of DSAE and L&R)
    LOG_PROB = "log-prob"  # -sum (z' - z_g)^2 / (2 var(x')): log q(z_g | x') up to a constant
    PIXEL_MSE = "pixel-mse"  # -||x' - decode(z_g)||^2 on [0, 1] pixels


@dataclass(frozen=True)
class VAEConfig:
    """The beta-VAE and its training schedule."""

    image_size: int = 84
    """Square RGB input size: 84 (paper) or 48 (later multiworld/Skew-Fit code)."""
    latent_dim: int = 16
    """Size of z."""
    beta: float = 5.0
    """Weight of the KL term once warm-up is over."""
    beta_ramp_start: int = 0
    """Pretraining epoch at which beta starts to rise linearly from 0 (0 and equal to end = constant beta)."""
    beta_ramp_end: int = 0
    """Pretraining epoch at which beta reaches `beta`."""
    min_variance: float | None = None
    """Lower bound of the posterior variance (var = min_variance + |h|); None = plain log-variance head."""
    num_images: int = 5000
    """Images collected by the random exploration policy for pretraining (90% train / 10% test)."""
    teleport_every: int = 50
    """During data collection, teleport hand/pucks to a random goal state every this many steps."""
    goal_image_fraction: float = 0.0
    """Fraction of the `rig train` pretraining images that are rendered goal states, not exploration frames
    (the trainer node pretrains on the frames its robot sends)."""
    pretrain_epochs: int = 100
    """Pretraining epochs."""
    batches_per_epoch: int = 100
    """Gradient steps per pretraining epoch."""
    batch_size: int = 128
    lr: float = 1e-3
    online_every: int = 0
    """Online fine-tuning on replay images every this many env steps (0 = never: a fixed VAE). The reacher's
    default is the paper-era main results' fixed VAE (online training was their ablation, RIG_REFERENCE.md
    §1.6); `vae.online_every=1000` turns on its online variant."""
    online_batches: int = 200
    """VAE gradient steps per online fine-tuning phase; latents and the prior are refreshed after each."""

    def beta_at(self, epoch: int) -> float:
        """Beta for a pretraining epoch (the pusher's 0 -> beta ramp; constant when start == end)."""
        if self.beta_ramp_end <= self.beta_ramp_start:
            return self.beta
        fraction = (epoch - self.beta_ramp_start) / (self.beta_ramp_end - self.beta_ramp_start)
        return self.beta * min(max(fraction, 0.0), 1.0)


@dataclass(frozen=True)
class TD3Config:
    """Goal-conditioned TD3 (twin critics, delayed actor, target smoothing)."""

    hidden_sizes: tuple[int, ...] = (400, 300)
    lr: float = 1e-3
    gamma: float = 0.99
    tau: float = 0.01
    """Polyak rate for all three target networks."""
    policy_delay: int = 2
    target_noise: float = 0.2
    target_noise_clip: float = 0.5
    batch_size: int = 128


@dataclass(frozen=True)
class ExplorationConfig:
    """Ornstein-Uhlenbeck action noise. The authors' runs built OUStrategy with its defaults (theta 0.15,
    sigma 0.3) and ignored the configured 0.2 (RIG_REFERENCE.md §5, trap 1); we use what actually ran."""

    ou_theta: float = 0.15
    ou_sigma: float = 0.3


@dataclass(frozen=True)
class ReplayConfig:
    """Replay buffer and goal relabelling."""

    capacity: int = 100_000
    relabel: RelabelStrategy = RelabelStrategy.RIG
    reward: RewardKind = RewardKind.LATENT
    """The relabelled reward of RIG (`rig train --reward`); the Oracle and the baselines take `latent`."""
    min_reward_variance: float = 1e-4
    """Floor on the encoder variance in the log-prob reward (railrl's `reward_min_variance` floor): a posterior
    variance near 0 would make one latent dimension's error dominate the reward."""


@dataclass(frozen=True)
class TrainConfig:
    """The outer loop: budget, update ratio, evaluation and checkpoint cadence."""

    env_steps: int = 10_000
    updates_per_step: int = 5
    min_steps_before_training: int = 128
    eval_every: int = 1000
    eval_episodes: int = 20
    """Fresh env-sampled goal images per evaluation: the authors evaluated 1,000 steps per epoch (20 reacher episodes)."""
    checkpoint_every: int = 1000
    prior_from_data: bool = True
    """Sample imagined goals from N(mean, std^2) of the encoder means (paper-era, trap 3) instead of N(0, I)."""
    prior_min_std: float = 0.0
    """Floor on the imagined-goal std of every latent dimension (0 = the fitted std as it is, the authors' prior).
    The reacher's VAE leaves 12 of its 16 dimensions nearly unused (fitted std ~0.01) and encodes its
    out-of-reach goal images partly in them; 0.1 makes imagined goals vary there too (benchmarked: no gain)."""
    goal_clip_std: float = 0.0
    """Clamp every latent dimension of an encoded goal *image* to the goal prior's mean ± this many std before
    the policy sees it (0 = off: the authors handed the encoder mean over as it is). The policy only trains on
    goals inside the prior's range; goal images of states it never saw (the reacher's out-of-reach goals, an
    odd operator image) can encode far outside it. Benchmarked at 3 on the reacher: no change on average."""
    vae_from: str | None = None
    """Start from another run's pretrained VAE and prior (its directory) instead of pretraining one."""


@dataclass(frozen=True)
class RigConfig:
    """Everything that defines a run."""

    task: str = "visual-reacher"
    seed: int = 0
    oracle: bool = False
    """Train TD3 + relabelling on the true state instead of VAE latents (the paper's Oracle baseline)."""
    method: Method = Method.RIG
    """RIG or an image baseline (`rig train --method`); the Oracle is `oracle`, with method rig."""
    vae: VAEConfig = field(default_factory=VAEConfig)
    td3: TD3Config = field(default_factory=TD3Config)
    exploration: ExplorationConfig = field(default_factory=ExplorationConfig)
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        baseline = self.method is not Method.RIG
        if baseline and self.oracle:
            raise ValueError("the Oracle acts on true states: it takes method rig")
        if (baseline or self.oracle) and self.replay.reward is not RewardKind.LATENT:
            raise ValueError(f"replay.reward {self.replay.reward.value} is RIG's reward ablation: the Oracle and the "
                             "baselines use their own distance (reward latent)")  # fmt: skip
        if baseline and self.replay.relabel in (RelabelStrategy.PRIOR, RelabelStrategy.RIG):
            raise ValueError(f"method {self.method.value} has no generative model to imagine goals: relabel with "
                             "future or none")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (enums as their values)."""
        return _to_jsonable(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RigConfig:
        """Inverse of `to_dict`; raises RigError on unknown or ill-typed fields."""
        return _build(cls, data)


_PUSHER_VAE = VAEConfig(
    latent_dim=4,
    beta=5.0,
    beta_ramp_start=100,
    beta_ramp_end=200,
    min_variance=1e-4,
    num_images=10_000,
    teleport_every=100,
    pretrain_epochs=500,
    online_every=3000,  # the authors' `every_three` schedule: 600 batches every 3rd epoch of 1,000 steps
    online_batches=600,
)
_PUSHER_TRAIN = TrainConfig(  # 1,000 eval steps = 10 episodes of 100
    env_steps=505_000, updates_per_step=4, min_steps_before_training=1000, eval_every=5000, eval_episodes=10,
    checkpoint_every=5000,
)

TASK_CONFIGS: dict[str, RigConfig] = {
    "visual-reacher": RigConfig(task="visual-reacher"),
    "visual-pusher": RigConfig(task="visual-pusher", vae=_PUSHER_VAE, train=_PUSHER_TRAIN),
    "visual-multi-pusher": RigConfig(task="visual-multi-pusher", vae=replace(_PUSHER_VAE, latent_dim=16), train=_PUSHER_TRAIN),
}


def task_config(task: str) -> RigConfig:
    """The default config of a task."""
    if task not in TASK_CONFIGS:
        raise RigError(f"unknown task {task!r}; choose one of: {', '.join(TASK_CONFIGS)}")
    return TASK_CONFIGS[task]


def apply_overrides(config: RigConfig, overrides: list[str]) -> RigConfig:
    """Apply `section.field=value` (or `field=value` for top-level fields) overrides, type-checked."""
    data = config.to_dict()
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise RigError(f"override {item!r} is not of the form section.field=value")
        *path, name = key.strip().split(".")
        target = data
        for part in path:
            if not isinstance(target.get(part), dict):
                raise RigError(f"unknown config section {part!r} in {item!r}")
            target = target[part]
        if name not in target or isinstance(target[name], dict):
            raise RigError(f"unknown config field {key!r}")
        target[name] = raw.strip()  # typed against the field in RigConfig.from_dict
    return RigConfig.from_dict(data)


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_jsonable(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    return value


def _build(cls: type, data: Any) -> Any:
    """Recursively build a frozen dataclass from a dict, checking names and types."""
    if not isinstance(data, dict):
        raise RigError(f"expected a mapping for {cls.__name__}, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise RigError(f"unknown {cls.__name__} field(s): {', '.join(sorted(unknown))}")
    kwargs = {name: _coerce(hints[name], value, f"{cls.__name__}.{name}") for name, value in data.items()}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as error:
        raise RigError(f"invalid {cls.__name__}: {error}") from error


def _coerce(hint: Any, value: Any, where: str) -> Any:
    """Check/convert one value against its type hint (command-line overrides arrive as strings)."""
    if dataclasses.is_dataclass(hint):
        return _build(hint, value)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if args and type(None) in args:  # Optional[X]
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            return None
        return _coerce(next(a for a in args if a is not type(None)), value, where)
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(value)
        except ValueError as error:
            choices = ", ".join(member.value for member in hint)
            raise RigError(f"{where}: {value!r} is not one of {choices}") from error
    if origin is tuple:
        items = [item for item in value.split(",") if item] if isinstance(value, str) else value
        return tuple(_coerce(args[0], item, where) for item in items)
    if isinstance(value, str) and hint is not str:
        value = _parse_scalar(hint, value, where)
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise RigError(f"{where}: {value!r} is not finite")
        return float(value)
    if hint in (int, bool, str) and type(value) is hint:
        return value
    raise RigError(f"{where}: expected {getattr(hint, '__name__', hint)}, got {value!r}")


def _parse_scalar(hint: Any, text: str, where: str) -> Any:
    """int / float / bool from command-line text."""
    if hint is bool and text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return hint(text) if hint in (int, float) else text
    except ValueError:
        raise RigError(f"{where}: expected {hint.__name__}, got {text!r}") from None
