"""The safety envelope every RIG driver puts between a velocity command and the arm (ROS-free, no middleware).

    command ──▶ CommandGate ──▶ limit_twist ──▶ [joint drivers: limit_joint_velocities] ──▶ arm
               finite, not      Cartesian speed       joint margins, joint speed limits,
               absurd, fresh    and acceleration,     singularity scaling and stop
               (watchdog), not  the workspace box
               operator-stopped

The MuJoCo sim driver moves its hand target in Cartesian space and uses the gate and `limit_twist`; the Intera
driver also maps the twist to joint velocities and uses `limit_joint_velocities`. So sim and real arms stop,
slow down and refuse commands in the same way. Every stage returns why it changed the command, for the
drivers' status topics. Defaults follow moveit_servo where it has one (ROS_REFERENCE.md §7).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, fields

import numpy as np


@dataclass(frozen=True)
class EnvelopeConfig:
    """Limits of the envelope; every driver reads them from its parameter file."""

    box_low: tuple[float, float, float] = (0.35, -0.25, 0.10)
    """Workspace box lower corner for the hand (m, robot base frame)."""
    box_high: tuple[float, float, float] = (0.80, 0.45, 0.40)
    """Workspace box upper corner for the hand (m, robot base frame)."""
    max_linear_speed: float = 0.2
    """Hand speed limit (m/s); a faster command is scaled down to it, direction kept."""
    max_linear_accel: float = 1.0
    """Hand acceleration limit (m/s^2) for commanded changes; stops (box, watchdog, operator) are immediate."""
    max_angular_speed: float = 0.5
    """Hand angular speed limit (rad/s)."""
    max_angular_accel: float = 2.5
    """Hand angular acceleration limit (rad/s^2)."""
    reject_linear_speed: float = 2.0
    """A command faster than this (m/s) is not a command but an error: rejected and counted, the arm stops."""
    reject_angular_speed: float = 10.0
    """The same for angular speed (rad/s)."""
    command_timeout_s: float = 0.2
    """Watchdog: no command for this long and the arm stops."""
    joint_margin: float = 0.1
    """Joint-limit margin (rad): a joint inside it that moves towards its limit halts the arm (moveit_servo: 0.1)."""
    joint_speed_fraction: float = 0.5
    """Joint speeds are kept within this fraction of each joint's rated speed."""
    singularity_slowdown: float = 17.0
    """Jacobian condition number where motion towards a singularity starts to slow (moveit_servo: 17)."""
    singularity_stop: float = 30.0
    """Condition number at which motion towards a singularity stops (moveit_servo: 30)."""
    singularity_leaving_factor: float = 2.0
    """Moving away from a singularity, both thresholds are this much higher (moveit_servo: 2)."""
    box_return_gain: float = 2.0
    """Outside the box along an axis (after a push or a drift), the hand is sent back at this rate (1/s)."""

    def __post_init__(self) -> None:
        low, high = np.asarray(self.box_low, float), np.asarray(self.box_high, float)
        if low.shape != (3,) or high.shape != (3,) or not np.all(np.isfinite(low)) or not np.all(np.isfinite(high)):
            raise ValueError(f"box_low and box_high must be 3 finite numbers, got {self.box_low} and {self.box_high}")
        if not np.all(low < high):
            raise ValueError(f"box_low {self.box_low} must be below box_high {self.box_high} on every axis")
        positive = [f.name for f in fields(self) if f.name not in ("box_low", "box_high")]
        for name in positive:
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value}")
        if self.joint_speed_fraction > 1:
            raise ValueError(f"joint_speed_fraction must be <= 1, got {self.joint_speed_fraction}")
        if self.singularity_stop <= self.singularity_slowdown:
            raise ValueError("singularity_stop must be above singularity_slowdown")
        if self.reject_linear_speed < self.max_linear_speed or self.reject_angular_speed < self.max_angular_speed:
            raise ValueError("reject_*_speed must not be below the corresponding max_*_speed")

    def describe(self) -> str:
        """One line for the start-up log."""
        return (f"box {list(self.box_low)}..{list(self.box_high)} m, speed <= {self.max_linear_speed} m/s and "
                f"{self.max_angular_speed} rad/s, accel <= {self.max_linear_accel} m/s^2, commands over "
                f"{self.reject_linear_speed} m/s rejected, watchdog {self.command_timeout_s} s, joint margin "
                f"{self.joint_margin} rad, joint speed <= {self.joint_speed_fraction} x rated, singularity slow "
                f"{self.singularity_slowdown} / stop {self.singularity_stop}")  # fmt: skip


class Hold(enum.Enum):
    """Why the gate lets no motion through (NONE: it does)."""

    NONE = "none"
    NO_COMMAND = "no_command"
    WATCHDOG = "watchdog"
    OPERATOR_STOP = "operator_stop"
    REJECTED = "rejected"


@dataclass
class EnvelopeCounters:
    """What the envelope did since start, for status topics."""

    accepted: int = 0
    rejected: int = 0
    watchdog_stops: int = 0
    box_cuts: int = 0
    speed_clamps: int = 0
    joint_margin_stops: int = 0
    joint_speed_scalings: int = 0
    singularity_slowdowns: int = 0
    singularity_stops: int = 0


@dataclass
class CommandGate:
    """Validates incoming commands and decides whether any motion is allowed now.

    A command with a non-finite or absurd value is rejected, counted and stops the arm (it replaces the
    previous command: whoever sent it has lost control). The newest valid command goes through until it
    is older than the watchdog timeout. An operator stop blocks everything until released.
    """

    config: EnvelopeConfig
    counters: EnvelopeCounters = field(default_factory=EnvelopeCounters)
    operator_stopped: bool = False
    last_rejection: str = ""
    _twist: np.ndarray = field(default_factory=lambda: np.zeros(6))
    _received_at: float = -math.inf
    _rejected: bool = False
    _timed_out: bool = False

    def submit(self, linear: tuple[float, float, float], angular: tuple[float, float, float], now: float) -> bool:
        """A new command (m/s, rad/s, base frame) received at ``now`` (monotonic s); False if rejected."""
        twist = np.array([*linear, *angular], dtype=np.float64)
        problem = self._problem(twist)
        self._received_at, self._timed_out = now, False
        if problem:
            self.counters.rejected += 1
            self.last_rejection, self._rejected = problem, True
            self._twist = np.zeros(6)
            return False
        self.counters.accepted += 1
        self._twist, self._rejected = twist, False
        return True

    def clear(self) -> None:
        """Forget the current command (e.g. after a reset): no motion until the next one."""
        self._twist, self._received_at, self._rejected = np.zeros(6), -math.inf, False

    def current(self, now: float) -> tuple[np.ndarray, Hold]:
        """The twist allowed at ``now`` (zero unless Hold.NONE) and why it is held, if it is."""
        if self.operator_stopped:
            return np.zeros(6), Hold.OPERATOR_STOP
        if self._received_at == -math.inf:
            return np.zeros(6), Hold.NO_COMMAND
        if self._rejected:
            return np.zeros(6), Hold.REJECTED
        if now - self._received_at > self.config.command_timeout_s:
            if not self._timed_out:
                self.counters.watchdog_stops += 1
                self._timed_out = True
            return np.zeros(6), Hold.WATCHDOG
        return self._twist.copy(), Hold.NONE

    def _problem(self, twist: np.ndarray) -> str:
        if not np.all(np.isfinite(twist)):
            return f"non-finite values {twist.tolist()}"
        if np.max(np.abs(twist)) > max(self.config.reject_linear_speed, self.config.reject_angular_speed):
            return f"a component over the rejection limits: {twist.tolist()}"  # (and no overflow in the norms)
        linear, angular = float(np.linalg.norm(twist[:3])), float(np.linalg.norm(twist[3:]))
        if linear > self.config.reject_linear_speed:
            return f"linear speed {linear:.3g} m/s over {self.config.reject_linear_speed} m/s"
        if angular > self.config.reject_angular_speed:
            return f"angular speed {angular:.3g} rad/s over {self.config.reject_angular_speed} rad/s"
        return ""


def _clamp_norm(vector: np.ndarray, limit: float) -> tuple[np.ndarray, bool]:
    norm = float(np.linalg.norm(vector))
    return (vector * (limit / norm), True) if norm > limit else (vector, False)


def limit_twist(twist: np.ndarray, previous: np.ndarray, hand_position: np.ndarray, dt: float,
                config: EnvelopeConfig, counters: EnvelopeCounters) -> np.ndarray:  # fmt: skip
    """The Cartesian stage: speed limits, acceleration limits relative to ``previous`` (the last output), then
    the workspace box: along an axis where one tick of motion would take the hand past a face, that axis is cut
    to zero at once; along an axis where the hand is already outside, it is sent back towards the face.
    Returns the twist to apply for ``dt`` s."""
    linear, clamped_linear = _clamp_norm(twist[:3], config.max_linear_speed)
    angular, clamped_angular = _clamp_norm(twist[3:], config.max_angular_speed)
    counters.speed_clamps += int(clamped_linear or clamped_angular)
    linear = previous[:3] + _clamp_norm(linear - previous[:3], config.max_linear_accel * dt)[0]
    angular = previous[3:] + _clamp_norm(angular - previous[3:], config.max_angular_accel * dt)[0]
    after = hand_position + linear * dt
    leaving = ((after > config.box_high) & (linear > 0)) | ((after < config.box_low) & (linear < 0))
    if np.any(leaving):
        counters.box_cuts += 1
        linear = np.where(leaving, 0.0, linear)
    excursion = np.clip(hand_position, config.box_low, config.box_high) - hand_position
    outside = excursion != 0
    if np.any(outside):
        back = _clamp_norm(excursion * config.box_return_gain, config.max_linear_speed)[0]
        linear = np.where(outside, back, linear)
    return np.concatenate([linear, angular])


def condition_number(jacobian: np.ndarray) -> float:
    """The ratio of the Jacobian's largest to smallest singular value (inf at a singularity)."""
    singular = np.linalg.svd(jacobian, compute_uv=False)
    return float(singular[0] / singular[-1]) if singular[-1] > 0 else math.inf


def singularity_scale(condition: float, condition_after: float, config: EnvelopeConfig) -> float:
    """1 far from singularities, falling linearly to 0 between the slowdown and stop thresholds when the motion
    raises the condition number; moving away, the thresholds are ``singularity_leaving_factor`` times higher."""
    factor = 1.0 if condition_after > condition else config.singularity_leaving_factor
    slow, stop = config.singularity_slowdown * factor, config.singularity_stop * factor
    if condition <= slow:
        return 1.0
    if condition >= stop or not math.isfinite(condition):
        return 0.0
    return (stop - condition) / (stop - slow)


@dataclass(frozen=True)
class JointState:
    """The joint stage's inputs: where the joints are and what they may do."""

    q: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    rated_speed: np.ndarray


def limit_joint_velocities(qdot: np.ndarray, joints: JointState, dt: float, condition: float, condition_after: float,
                           config: EnvelopeConfig, counters: EnvelopeCounters) -> np.ndarray:  # fmt: skip
    """The joint stage: singularity scaling, then a halt of every joint if one would be inside its margin after
    ``dt`` s and moves towards its limit (moving one joint alone would bend the hand's path), then a uniform
    scale-down so that every joint stays within ``joint_speed_fraction`` of its rated speed (direction kept)."""
    qdot = np.asarray(qdot, np.float64)
    if not np.all(np.isfinite(qdot)):
        counters.singularity_stops += 1
        return np.zeros_like(qdot)
    scale = singularity_scale(condition, condition_after, config)
    if scale < 1.0:
        if scale == 0.0:
            counters.singularity_stops += 1
        else:
            counters.singularity_slowdowns += 1
        qdot = qdot * scale
    after = joints.q + qdot * dt
    towards_lower = (after < joints.lower + config.joint_margin) & (qdot < 0)
    towards_upper = (after > joints.upper - config.joint_margin) & (qdot > 0)
    if np.any(towards_lower | towards_upper):
        counters.joint_margin_stops += 1
        return np.zeros_like(qdot)
    limits = joints.rated_speed * config.joint_speed_fraction
    ratio = float(np.max(np.abs(qdot) / limits))
    if ratio > 1.0:
        counters.joint_speed_scalings += 1
        qdot = qdot / ratio
    return qdot
