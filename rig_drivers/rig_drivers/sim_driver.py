"""The simulated Sawyer driver, free of any middleware: velocity commands in, one task step per tick, observations out.

Commands pass the same safety envelope as the real arm's (`rig_drivers.safety`): the command gate (non-finite or
absurd commands rejected and counted, the watchdog, the operator stop) and the Cartesian stage (speed limit,
workspace box). The allowed planar velocity v (m/s) becomes the task action a = v / (action_scale * rate_hz),
clipped to [-1, 1], so one step at ``rate_hz`` moves the hand target by v / rate_hz. The envelope's box is the
task's hand box plus one step on every side; the task itself clips the hand target to its box exactly, as in
`rig train`, so a policy meets the same walls in the graph as in training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rig_core.envs import SawyerImageTask
from rig_drivers.safety import CommandGate, EnvelopeConfig, limit_twist
from rig_transport import Logger

MIN_STEP_GAP = 0.5
"""A tick sooner than this fraction of the period after the previous step (a late timer callback followed by an
on-time one) is skipped: steps never come in bursts, and on average never faster than ``rate_hz``."""


def episode_seed(seed: int, episode_id: int) -> int:
    """The task's reset seed for ``episode_id`` of a run seeded with ``seed`` (reproducible, well mixed)."""
    return int(np.random.SeedSequence([seed, episode_id]).generate_state(1, np.uint32)[0])


def velocity_to_action(vx: float, vy: float, action_scale: float, rate_hz: float) -> np.ndarray:
    """The task action for a planar velocity (m/s): v / (action_scale * rate_hz), clipped to [-1, 1]."""
    return np.clip(np.array([vx, vy], np.float64) / (action_scale * rate_hz), -1.0, 1.0)


@dataclass(frozen=True)
class Observation:
    """What one tick (or a reset) shows: the camera image and, for evaluation, the true state."""

    image: np.ndarray
    state: np.ndarray
    goal_state: np.ndarray
    distances: dict[str, float]
    episode_id: int
    step: int


def sim_envelope(task: SawyerImageTask, action_scale: float, rate_hz: float, command_timeout_s: float) -> EnvelopeConfig:
    """The envelope of a simulated task: its hand box plus one step, its per-step speed limit, no acceleration
    limit beyond what one step allows (the task's dynamics stay those of `rig train`)."""
    spec, step = task.spec_, action_scale
    speed = action_scale * rate_hz * np.sqrt(2)  # both axes at full action
    return EnvelopeConfig(
        box_low=(spec.hand_low[0] - step, spec.hand_low[1] - step, spec.hand_z - step),
        box_high=(spec.hand_high[0] + step, spec.hand_high[1] + step, spec.hand_z + step),
        max_linear_speed=speed, max_linear_accel=2 * speed * rate_hz, reject_linear_speed=max(2.0, 10 * speed),
        command_timeout_s=command_timeout_s,
    )


class SimDriver:
    """Steps a rig_core task once per tick with the commanded action; resets and goals on request."""

    def __init__(self, task: SawyerImageTask, action_scale: float, rate_hz: float, command_timeout_s: float,
                 seed: int, logger: Logger) -> None:  # fmt: skip
        if rate_hz <= 0 or command_timeout_s <= 0 or action_scale <= 0:
            raise ValueError("rate_hz, command_timeout_s and action_scale must be > 0")
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.task, self.action_scale, self.rate_hz, self.seed, self.log = task, action_scale, rate_hz, seed, logger
        self.envelope = sim_envelope(task, action_scale, rate_hz, command_timeout_s)
        self.gate = CommandGate(self.envelope)
        self._previous = np.zeros(6)
        self.episode_id, self.step = 0, 0
        self._last_step_at = -math.inf
        self._warned_ignored = False
        self.task.reset(seed=episode_seed(seed, 0))

    def command(self, linear: tuple[float, float, float], angular: tuple[float, float, float], now: float) -> None:
        """A velocity command (m/s, rad/s) received at ``now``; the envelope rejects (and counts) a non-finite or
        absurd one, which stops the hand."""
        if (linear[2] != 0 or any(angular)) and not self._warned_ignored and all(map(math.isfinite, (*linear, *angular))):
            self.log.warning("linear.z and angular velocities are ignored: the simulated hand moves in the plane only")
            self._warned_ignored = True
        if not self.gate.submit((linear[0], linear[1], 0.0), (0.0, 0.0, 0.0), now):
            self.log.warning("rejected a velocity command (%s): stopping", self.gate.last_rejection)

    def action(self, now: float) -> np.ndarray:
        """The task action for a step at ``now``: the allowed command through the envelope's Cartesian stage."""
        twist, _ = self.gate.current(now)
        state = self.task.state()
        hand = np.array([state[0], state[1], self.task.spec_.hand_z])
        self._previous = limit_twist(twist, self._previous, hand, 1.0 / self.rate_hz, self.envelope, self.gate.counters)
        return velocity_to_action(self._previous[0], self._previous[1], self.action_scale, self.rate_hz)

    def tick(self, now: float) -> Observation | None:
        """One env step with the current action (zero if the command timed out); None if the tick came too soon."""
        if now - self._last_step_at < MIN_STEP_GAP / self.rate_hz:
            return None
        self._last_step_at = now
        image, *_ = self.task.step(self.action(now))
        self.step += 1
        return self._observation(image)

    def reset(self, ended_episode_id: int) -> Observation:
        """Reset after ``ended_episode_id``: the next episode starts, seeded from the run's seed and its id."""
        self.episode_id, self.step = ended_episode_id + 1, 0
        image, _ = self.task.reset(seed=episode_seed(self.seed, self.episode_id))
        self.gate.clear()
        self._previous = np.zeros(6)
        return self._observation(image)

    def set_goal(self, goal_state: np.ndarray) -> np.ndarray:
        """Set the task's goal; ValueError if it is not state_dim finite numbers. Returns the goal as set."""
        goal = np.asarray(goal_state, np.float64).reshape(-1)
        if goal.shape != (self.task.state_dim,) or not np.all(np.isfinite(goal)):
            raise ValueError(f"{self.task.name} goal states are {self.task.state_dim} finite numbers, got {goal.tolist()}")
        self.task.set_goal_state(goal)
        return goal

    def goal_image(self) -> np.ndarray:
        """The camera image of the current goal state (rendered aside: the running simulation is untouched)."""
        return self.task.render_state(self.task.goal_state)

    def close(self) -> None:
        """Release the task's renderer."""
        self.task.close()

    def observe(self) -> Observation:
        """The current image, true state, goal and distances."""
        return self._observation(self.task.render_image())

    def _observation(self, image: np.ndarray) -> Observation:
        state, goal = self.task.state(), self.task.goal_state
        return Observation(image, state, goal, self.task.distances(state, goal), self.episode_id, self.step)
