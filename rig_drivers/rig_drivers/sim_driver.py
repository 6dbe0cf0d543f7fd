"""The simulated Sawyer driver, free of any middleware: velocity commands in, one task step per tick, observations out.

A command's planar velocity v (m/s) becomes the task action a = v / (action_scale * rate_hz), clipped to [-1, 1],
so one step at ``rate_hz`` moves the hand target by v / rate_hz (at most action_scale per axis: the speed limit).
The task clips the target to its hand box (the safety box). A command older than the timeout counts as zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rig_core.envs import SawyerImageTask
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


class CommandWatchdog:
    """The newest commanded action, which reads as zero once it is older than ``timeout_s``."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._action = np.zeros(2)
        self._received_at = -math.inf

    def update(self, action: np.ndarray, now: float) -> None:
        """A new command, received at ``now`` (the node's monotonic clock)."""
        self._action, self._received_at = np.asarray(action, np.float64).copy(), now

    def clear(self) -> None:
        """Forget the command: zero until the next one."""
        self._action, self._received_at = np.zeros(2), -math.inf

    def action(self, now: float) -> np.ndarray:
        """The action to apply at ``now``: the newest command, or zero if it has timed out."""
        return self._action.copy() if now - self._received_at <= self.timeout_s else np.zeros(2)


class SimDriver:
    """Steps a rig_core task once per tick with the commanded action; resets and goals on request."""

    def __init__(self, task: SawyerImageTask, action_scale: float, rate_hz: float, command_timeout_s: float,
                 seed: int, logger: Logger) -> None:  # fmt: skip
        if rate_hz <= 0 or command_timeout_s <= 0 or action_scale <= 0:
            raise ValueError("rate_hz, command_timeout_s and action_scale must be > 0")
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.task, self.action_scale, self.rate_hz, self.seed, self.log = task, action_scale, rate_hz, seed, logger
        self.watchdog = CommandWatchdog(command_timeout_s)
        self.episode_id, self.step = 0, 0
        self._last_step_at = -math.inf
        self._warned_ignored = False
        self.task.reset(seed=episode_seed(seed, 0))

    def command(self, linear: tuple[float, float, float], angular: tuple[float, float, float], now: float) -> None:
        """A velocity command (m/s, rad/s) received at ``now``; a non-finite one is rejected and stops the hand."""
        if not all(math.isfinite(value) for value in (*linear, *angular)):
            self.log.warning("rejected a velocity command with non-finite values (linear %s, angular %s): stopping",
                             linear, angular)  # fmt: skip
            self.watchdog.update(np.zeros(2), now)
            return
        if (linear[2] != 0 or any(angular)) and not self._warned_ignored:
            self.log.warning("linear.z and angular velocities are ignored: the simulated hand moves in the plane only")
            self._warned_ignored = True
        self.watchdog.update(velocity_to_action(linear[0], linear[1], self.action_scale, self.rate_hz), now)

    def tick(self, now: float) -> Observation | None:
        """One env step with the current action (zero if the command timed out); None if the tick came too soon."""
        if now - self._last_step_at < MIN_STEP_GAP / self.rate_hz:
            return None
        self._last_step_at = now
        image, *_ = self.task.step(self.watchdog.action(now))
        self.step += 1
        return self._observation(image)

    def reset(self, ended_episode_id: int) -> Observation:
        """Reset after ``ended_episode_id``: the next episode starts, seeded from the run's seed and its id."""
        self.episode_id, self.step = ended_episode_id + 1, 0
        image, _ = self.task.reset(seed=episode_seed(self.seed, self.episode_id))
        self.watchdog.clear()
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
