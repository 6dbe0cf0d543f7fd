"""What the policy decides, free of any middleware: frames in; actions, transitions and reset requests out.

One tick of the node's timer is one environment step. An action is taken only on a frame that arrived since
the previous action; that frame is also the previous action's next observation, so a transition goes out
one tick after its action. After the horizon's last transition the controller asks for a reset and waits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np

from rig_core.agent import RIGAgent
from rig_core.config import RigConfig
from rig_core.goal_preparation import PreparedGoal, prepare_goal
from rig_core.noise import OUNoise
from rig_core.weights import WeightsBundle, WeightsError, bundle_config, load_policy_weights

ACTION_DIM = 2
"""Every task moves the hand in the plane (the action space of rig_core's SawyerImageTask)."""


Stamp = tuple[int, int]
"""(sec, nanosec) of a message header's stamp."""


class Mode(str, Enum):
    """rig_msgs/PolicyStatus mode values."""

    IMAGINED_GOAL = "imagined_goal"
    OPERATOR_GOAL = "operator_goal"
    IDLE = "idle"


@dataclass(frozen=True)
class TransitionRecord:
    """One environment step, as rig_msgs/Transition carries it (images at the model's size, uint8 RGB)."""

    episode_id: int
    step: int
    observation: np.ndarray
    action: np.ndarray
    next_observation: np.ndarray
    goal_latent: np.ndarray
    episode_end: bool
    weights_version: int
    observation_stamp: Stamp
    """The camera's stamp of ``observation``."""
    next_observation_stamp: Stamp
    """The camera's stamp of ``next_observation``."""


@dataclass(frozen=True)
class Decision:
    """What a tick asks the node to publish (None: nothing)."""

    action: np.ndarray | None = None
    """Action in [-1, 1]^2 to command (zeros when stopping for a reset)."""
    transition: TransitionRecord | None = None
    reset_request: int | None = None
    """Episode that just ended: ask the driver for a reset."""


def action_to_velocity(action: np.ndarray, action_scale: float, rate_hz: float) -> tuple[float, float]:
    """End-effector velocity (m/s) of an action: v = a * action_scale * rate_hz.

    The driver steps its task once per tick at ``rate_hz`` and turns v back into a = v / (action_scale * rate_hz).
    """
    vx, vy = (np.asarray(action, np.float64) * action_scale * rate_hz).tolist()
    return vx, vy


class PolicyController:
    """Episodes, goals, exploration and weights of one robot's policy."""

    def __init__(self, config: RigConfig, horizon: int, explore: bool, rng: np.random.Generator,
                 align_goals: bool = True) -> None:  # fmt: skip
        """``config`` is the policy's task config (exploration noise; latent size until weights arrive);
        ``align_goals``: operator goal images are aligned to the live camera and judged for familiarity (needs
        weights with the VAE decoder; `rig_core.goal_preparation`)."""
        if horizon < 1:
            raise ValueError(f"the horizon must be at least 1 step, got {horizon}")
        self.config, self.horizon, self.explore, self.rng = config, horizon, explore, rng
        self.align_goals = align_goals
        self.prepared_goal: PreparedGoal | None = None
        """The operator goal as last prepared for the model (None: not aligned, or no operator goal)."""
        self.agent: RIGAgent | None = None
        self.weights_version = 0
        self.decodes = False
        """Whether the weights in use came with their VAE decoder (for the model images; older bundles lack it)."""
        self.noise = OUNoise(ACTION_DIM, config.exploration.ou_theta, config.exploration.ou_sigma, rng)
        self.episode_id = 0
        self.step = 0
        self.resetting = False
        self.latent_distance = math.nan
        self._weights_sha256 = ""
        self._frame: np.ndarray | None = None
        self._frame_stamp: Stamp = (0, 0)
        self._frame_is_new = False
        self._pending: tuple[np.ndarray, Stamp, np.ndarray, np.ndarray, int] | None = None  # obs, its stamp, action,
        # goal, weights version
        self._operator_goal: np.ndarray | None = None
        self._goal_serial = 0
        self._goal: tuple[tuple[object, ...], np.ndarray] | None = None  # (what it was computed from, latent)

    # ----- inputs ----------------------------------------------------------------------------------------
    def observe(self, frame: np.ndarray, stamp: Stamp = (0, 0)) -> None:
        """The newest camera frame, already at the model's input size, and its header's stamp."""
        self._frame, self._frame_stamp, self._frame_is_new = frame, stamp, True

    def set_goal_image(self, image: np.ndarray) -> None:
        """An operator goal (model-size uint8 RGB), used from the next step until cleared."""
        self._operator_goal, self.prepared_goal = image, None
        self._goal_serial += 1

    def capture_goal(self) -> None:
        """Take the newest camera frame as the operator goal."""
        if self._frame is None:
            raise ValueError("no camera frame has arrived yet to capture as the goal")
        self.set_goal_image(self._frame.copy())

    def clear_goal(self) -> None:
        """Back to imagined goals."""
        self._operator_goal, self.prepared_goal = None, None

    def load_weights(self, bundle: WeightsBundle) -> bool:
        """Swap in a bundle (False if it is the one in use); raise WeightsError and keep the old on any problem.

        The agent is built from the bundle's own config (the trainer's network sizes), which must be for
        this policy's task and image size; load_policy_weights checks checksum, format, sizes and shapes.
        """
        if (bundle.version, bundle.sha256) == (self.weights_version, self._weights_sha256):
            return False
        config = bundle_config(bundle)
        mine, theirs = (self.config.task, self.config.vae.image_size), (config.task, config.vae.image_size)
        if theirs != mine:
            raise WeightsError(f"weights version {bundle.version} are for (task, image size) {theirs}, this policy is {mine}")
        agent = self.agent  # the same networks again (the usual update): load_policy_weights swaps in checked copies
        if agent is None or agent.config != config:
            agent = RIGAgent(config, state_dim=0, action_dim=ACTION_DIM)  # state_dim matters only to the Oracle
        self.decodes = load_policy_weights(agent, bundle)
        self.agent, self.weights_version, self._weights_sha256 = agent, bundle.version, bundle.sha256
        return True

    def reset_done(self, episode_id: int) -> bool:
        """The driver finished the reset after ``episode_id``: start the next episode (False if not awaited)."""
        if not self.resetting or episode_id != self.episode_id:
            return False
        self.episode_id += 1
        self.step = 0
        self.resetting = False
        self._frame_is_new = False  # the episode starts from a frame taken after the reset
        self.noise.reset()
        return True

    # ----- decisions -------------------------------------------------------------------------------------
    @property
    def mode(self) -> Mode:
        if self.agent is None or self.resetting:
            return Mode.IDLE
        return Mode.OPERATOR_GOAL if self._operator_goal is not None else Mode.IMAGINED_GOAL

    @property
    def frame(self) -> np.ndarray | None:
        """The newest camera frame at the model's size (None before the first)."""
        return self._frame

    @property
    def operator_goal(self) -> np.ndarray | None:
        """The operator's goal image at the model's size (None: practising on imagined goals)."""
        return self._operator_goal

    def goal_image(self) -> np.ndarray | None:
        """The goal as the model sees it: the operator's goal image at the model's size (as aligned to the camera),
        else the imagined goal of this episode and weights, decoded by the VAE (None until one has been drawn, or
        without a decoder)."""
        if self._operator_goal is not None:
            return self._operator_goal if self.prepared_goal is None else self.prepared_goal.image
        key = ("imagined", self.episode_id, self.weights_version)
        if self.agent is None or not self.decodes or self._goal is None or self._goal[0] != key:
            return None
        return self.agent.decode(self._goal[1][None])[0]

    def tick(self) -> Decision:
        """One step: close the pending transition with the new frame, then act on it (or stop for a reset)."""
        if self.resetting or not self._frame_is_new or self._frame is None:
            return Decision()
        frame, stamp, self._frame_is_new = self._frame, self._frame_stamp, False
        transition = None
        if self._pending is not None:
            observation, observation_stamp, action, goal, version = self._pending
            self._pending = None
            end = self.step == self.horizon - 1
            transition = TransitionRecord(self.episode_id, self.step, observation, action, frame, goal, end, version,
                                          observation_stamp, stamp)  # fmt: skip
            if end:
                self.resetting = True
                return Decision(np.zeros(ACTION_DIM, np.float32), transition, reset_request=self.episode_id)
            self.step += 1
        goal = self._goal_latent()
        action = self._act(frame, goal)
        self._pending = (frame, stamp, action, goal, self.weights_version)
        return Decision(action, transition)

    def _goal_latent(self) -> np.ndarray:
        """The operator goal's latent, else this episode's imagined goal; zeros before any weights."""
        if self.agent is None:
            return np.zeros(self.config.vae.latent_dim, np.float32)
        if self._operator_goal is not None:
            key: tuple[object, ...] = ("operator", self._goal_serial, self.weights_version)
        else:
            key = ("imagined", self.episode_id, self.weights_version)  # a new prior sample per episode and weights
        if self._goal is None or self._goal[0] != key:
            if self._operator_goal is not None:
                latent = self.agent.encode_goal(self._prepared_operator_goal()[None])[0]
            else:
                latent = self.agent.sample_prior(1, self.rng)[0]
            self._goal = (key, latent.astype(np.float32))
        return self._goal[1]

    def _prepared_operator_goal(self) -> np.ndarray:
        """The operator goal aligned to the newest frame (as given with alignment off, or for weights without the
        VAE decoder or scene statistics)."""
        assert self.agent is not None and self._operator_goal is not None and self._frame is not None
        usable = self.align_goals and self.decodes
        self.prepared_goal = prepare_goal(self.agent, self._operator_goal, self._frame) if usable else None
        return self._operator_goal if self.prepared_goal is None else self.prepared_goal.image

    def _act(self, frame: np.ndarray, goal: np.ndarray) -> np.ndarray:
        if self.agent is None:  # random exploration: the data the trainer pretrains its VAE on
            self.latent_distance = math.nan
            return self.noise.apply(self.rng.uniform(-1.0, 1.0, ACTION_DIM))
        latent = self.agent.encode(frame[None])[0]
        self.latent_distance = float(np.linalg.norm(latent - goal))
        action = self.agent.act(latent, goal)
        if self.explore:
            return self.noise.apply(action)
        return np.clip(action, -1.0, 1.0).astype(np.float32)
