"""A kinematic model of an Intera arm's joint controller, without ROS: what `sim_intera_arm` runs behind its topics.

It moves only while enabled and not e-stopped, and only on a fresh command: joint velocities (clamped to the
joints' speed limits) or joint positions (approached at ``position_speed_ratio`` of those limits, Intera's
default joint position speed being 0.3). A command older than the controller's command timeout (Intera: 0.2 s,
settable) is dropped and the arm holds where it is. Joint angles never leave their limits.

Usage::

    arm = InteraArmModel(NEUTRAL, SAWYER_LIMITS)
    arm.enable(True)
    arm.command_velocity(["right_j0"], [0.2], now_s=time.monotonic())
    arm.step(time.monotonic())          # integrates q += qdot * dt since the previous step
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rig_drivers.sawyer_kinematics import JOINT_NAMES, JointLimits

DEFAULT_COMMAND_TIMEOUT_S = 0.2
DEFAULT_POSITION_SPEED_RATIO = 0.3


@dataclass(frozen=True)
class _Command:
    velocity: np.ndarray | None
    """Joint velocities (rad/s), or None for a position command."""
    target: np.ndarray | None
    """Joint positions (rad) of a position command."""
    received_s: float


class InteraArmModel:
    """Joint angles of a 7-joint arm under Intera-style velocity/position commands, enable and e-stop."""

    def __init__(self, initial: Sequence[float], limits: JointLimits,
                 position_speed_ratio: float = DEFAULT_POSITION_SPEED_RATIO) -> None:  # fmt: skip
        self.limits = limits
        q = np.asarray(initial, dtype=float)
        if q.shape != (len(JOINT_NAMES),) or not np.all(np.isfinite(q)):
            raise ValueError(f"initial joint angles must be {len(JOINT_NAMES)} finite numbers, got {list(initial)}")
        self.q = np.clip(q, limits.lower, limits.upper)
        self.qdot = np.zeros(len(JOINT_NAMES))
        """Joint velocities of the last step (what the arm actually did, limits included)."""
        self.enabled = False
        self.stopped = False
        """E-stop asserted: disabled, and cannot be enabled until reset."""
        self.timeout_s = DEFAULT_COMMAND_TIMEOUT_S
        self._position_speed = position_speed_ratio * limits.velocity
        self._command: _Command | None = None
        self._last_step_s: float | None = None

    def enable(self, on: bool) -> None:
        """Enable or disable the arm (disabling drops the current command); ValueError if enabling while stopped."""
        if on and self.stopped:
            raise ValueError("cannot enable: the e-stop is asserted (reset it first)")
        self.enabled = on
        if not on:
            self._command = None

    def stop(self) -> None:
        """Assert the e-stop: disabled at once, the command dropped."""
        self.stopped, self.enabled, self._command = True, False, None

    def reset(self) -> None:
        """Clear the e-stop (the arm stays disabled until enabled)."""
        self.stopped = False

    def set_timeout(self, timeout_s: float) -> None:
        """The command timeout; ValueError unless it is a positive finite number of seconds."""
        if not (math.isfinite(timeout_s) and timeout_s > 0):
            raise ValueError(f"command timeout must be a positive number of seconds, got {timeout_s}")
        self.timeout_s = timeout_s

    def command_velocity(self, names: Sequence[str], velocity: Sequence[float], now_s: float) -> None:
        """Move the named joints at these velocities (rad/s) and hold the others; ValueError if malformed or ignored."""
        self._accept(names, velocity, now_s, as_velocity=True)

    def command_position(self, names: Sequence[str], position: Sequence[float], now_s: float) -> None:
        """Move the named joints towards these angles (rad) and hold the others; ValueError if malformed or ignored."""
        self._accept(names, position, now_s, as_velocity=False)

    def _accept(self, names: Sequence[str], values: Sequence[float], now_s: float, as_velocity: bool) -> None:
        if not self.enabled:
            raise ValueError("joint command ignored: the arm is not enabled")
        if len(names) != len(values):
            raise ValueError(f"joint command has {len(names)} names but {len(values)} values")
        unknown = sorted(set(names) - set(JOINT_NAMES))
        if unknown:
            raise ValueError(f"joint command names unknown joints {unknown}")
        if not all(math.isfinite(value) for value in values):
            raise ValueError(f"joint command values must be finite, got {list(values)}")
        indices = [JOINT_NAMES.index(name) for name in names]
        if as_velocity:
            velocity = np.zeros(len(JOINT_NAMES))
            velocity[indices] = values
            self._command = _Command(velocity=velocity, target=None, received_s=now_s)
        else:
            target = self.q.copy()
            target[indices] = values
            self._command = _Command(velocity=None, target=target, received_s=now_s)

    def step(self, now_s: float) -> None:
        """Advance to ``now_s``: integrate the current command (up to its timeout), clamp to the limits."""
        last, self._last_step_s = self._last_step_s, now_s
        command = self._command
        if last is None or command is None or not self.enabled:
            self.qdot = np.zeros(len(JOINT_NAMES))
            return
        expires_s = command.received_s + self.timeout_s
        dt = min(now_s, expires_s) - last
        if now_s >= expires_s:
            self._command = None  # timed out: hold from here on
        if dt <= 0:
            self.qdot = np.zeros(len(JOINT_NAMES))
            return
        if command.velocity is not None:
            velocity = np.clip(command.velocity, -self.limits.velocity, self.limits.velocity)
        else:
            velocity = np.clip((command.target - self.q) / dt, -self._position_speed, self._position_speed)
        moved = np.clip(self.q + velocity * dt, self.limits.lower, self.limits.upper)
        self.qdot = (moved - self.q) / (now_s - last)
        self.q = moved
