"""End-effector velocity control of a 7-joint arm, inside the safety envelope (ROS-free).

One `ArmController.step` per control tick turns the newest hand velocity command into joint velocities:

1. the command gate (finite, not absurd, fresh, no operator stop) decides whether anything moves;
2. axes the command leaves at zero hold their pose in closed loop on the measured pose (the hand keeps its
   height and orientation over an episode while the policy moves it in the plane);
3. the envelope's Cartesian stage (speed, acceleration, workspace box);
4. damped least squares through the Jacobian, with the nullspace pulled towards a comfortable posture;
5. the envelope's joint stage (singularities, joint-limit margins, joint speeds).

`ArmController.reset_step` moves the arm to its home joint angles the same way: the hand goes straight to the
home pose's hand pose (inside the box, at reset speed) while the nullspace pulls the joints to the home angles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import mujoco
import numpy as np

from rig_drivers.safety import (
    CommandGate,
    EnvelopeConfig,
    Hold,
    JointState,
    condition_number,
    limit_joint_velocities,
    limit_twist,
)
from rig_drivers.sawyer_kinematics import NEUTRAL, JointLimits


class Kinematics(Protocol):
    """Forward kinematics and Jacobian of the hand (base frame); `SawyerKinematics` is one."""

    def forward(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def jacobian(self, q: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class ControllerConfig:
    """Gains and poses of the end-effector controller."""

    rate_hz: float = 100.0
    """Control rate: one joint velocity command per tick."""
    hold_gain: float = 2.0
    """Held axes (commanded zero) are pulled back to their pose at this rate (1/s)."""
    nullspace_gain: float = 0.5
    """Rate (1/s) at which the nullspace pulls the joints towards ``comfort_posture``."""
    comfort_posture: tuple[float, ...] = tuple(NEUTRAL.tolist())
    """Joint angles the redundant degree of freedom prefers while the hand moves."""
    damping: float = 0.05
    """Largest damped-least-squares damping, reached at a singularity."""
    damping_threshold: float = 0.05
    """Smallest singular value below which the damping grows from 0 to ``damping``."""
    home: tuple[float, ...] = tuple(NEUTRAL.tolist())
    """Joint angles of the reset pose (rad)."""
    reset_linear_speed: float = 0.05
    """Hand speed while resetting (m/s)."""
    reset_angular_speed: float = 0.3
    """Hand angular speed while resetting (rad/s)."""
    reset_gain: float = 1.5
    """Rate (1/s) of the reset's pull towards the home pose, in Cartesian and joint space."""
    reset_tolerance: float = 0.01
    """The reset is done when every joint is within this of its home angle (rad)."""

    def __post_init__(self) -> None:
        for name in ("comfort_posture", "home"):
            values = np.asarray(getattr(self, name), float)
            if values.shape != (7,) or not np.all(np.isfinite(values)):
                raise ValueError(f"{name} must be 7 finite joint angles, got {list(getattr(self, name))}")
        for name in ("rate_hz", "hold_gain", "nullspace_gain", "damping", "damping_threshold", "reset_linear_speed",
                     "reset_angular_speed", "reset_gain", "reset_tolerance"):  # fmt: skip
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value}")


def orientation_error(reference_xyzw: np.ndarray, current_xyzw: np.ndarray) -> np.ndarray:
    """The rotation vector (base frame, rad) that turns the current orientation into the reference."""
    reference = np.array([reference_xyzw[3], *reference_xyzw[:3]])
    current_conjugate = np.array([current_xyzw[3], *(-np.asarray(current_xyzw[:3]))])
    error = np.empty(4)
    mujoco.mju_mulQuat(error, reference, current_conjugate)
    if error[0] < 0:  # the short way round
        error = -error
    vector = np.empty(3)
    mujoco.mju_quat2Vel(vector, error, 1.0)
    return vector


def redundancy_resolution(jacobian: np.ndarray, twist: np.ndarray, q: np.ndarray, posture: np.ndarray,
                          posture_gain: float, config: ControllerConfig) -> tuple[np.ndarray, float]:  # fmt: skip
    """Joint velocities for ``twist`` by damped least squares, J^T (J J^T + lambda^2 I)^-1 v with lambda growing as
    the smallest singular value falls below ``damping_threshold``, plus a pull towards ``posture`` projected into
    the Jacobian's nullspace (no hand motion). One SVD serves both and gives the condition number."""
    u, singular, vt = np.linalg.svd(jacobian)
    rank = len(singular)
    ratio = min(singular[-1] / config.damping_threshold, 1.0)
    damping_sq = (1.0 - ratio**2) * config.damping**2
    task = vt[:rank].T @ ((singular / (singular**2 + damping_sq)) * (u.T @ twist))
    row_space = vt[:rank]
    pull = posture_gain * (posture - q)
    nullspace = pull - row_space.T @ (row_space @ pull)
    condition = float(singular[0] / singular[-1]) if singular[-1] > 0 else float("inf")
    return task + nullspace, condition


@dataclass
class PoseHold:
    """The pose each zero-commanded axis holds: linear axes one by one, orientation as a whole."""

    position: np.ndarray | None = None
    orientation: np.ndarray | None = None

    def apply(self, twist: np.ndarray, position: np.ndarray, orientation: np.ndarray, gain: float) -> np.ndarray:
        """``twist`` with each zero axis replaced by a pull back to its held pose; moving axes update it."""
        if self.position is None or self.orientation is None:
            self.position, self.orientation = position.copy(), orientation.copy()
        result = twist.copy()
        moving = twist[:3] != 0
        self.position = np.where(moving, position, self.position)
        result[:3] = np.where(moving, twist[:3], gain * (self.position - position))
        if np.any(twist[3:] != 0):
            self.orientation = orientation.copy()
        else:
            result[3:] = gain * orientation_error(self.orientation, orientation)
        return result

    def set(self, position: np.ndarray, orientation: np.ndarray) -> None:
        """Hold exactly this pose from now on (after a reset: the home pose)."""
        self.position, self.orientation = position.copy(), orientation.copy()


@dataclass
class StepResult:
    """One tick's output: joint velocities to stream, and what happened."""

    qdot: np.ndarray
    hold: Hold
    hand_position: np.ndarray
    hand_orientation: np.ndarray
    condition: float


@dataclass
class ArmController:
    """Hand velocity commands to joint velocities, inside the envelope; see the module docstring."""

    kinematics: Kinematics
    limits: JointLimits
    envelope: EnvelopeConfig = field(default_factory=EnvelopeConfig)
    config: ControllerConfig = field(default_factory=ControllerConfig)

    def __post_init__(self) -> None:
        self.gate = CommandGate(self.envelope)
        self.counters = self.gate.counters
        self.pose_hold = PoseHold()
        self._previous = np.zeros(6)
        self._dt = 1.0 / self.config.rate_hz
        self._home = np.asarray(self.config.home, float)
        self._home_pose = self.kinematics.forward(self._home)
        if np.any(self._home < self.limits.lower + self.envelope.joint_margin) or np.any(
            self._home > self.limits.upper - self.envelope.joint_margin
        ):
            raise ValueError(f"home {list(self.config.home)} is not inside the joint limits' margins")
        position = self._home_pose[0]
        if np.any(position < self.envelope.box_low) or np.any(position > self.envelope.box_high):
            raise ValueError(f"the home pose's hand position {position.round(3).tolist()} is outside the workspace box")

    def step(self, q: np.ndarray, now: float) -> StepResult:
        """Joint velocities for this tick, from the newest command and the measured joint angles ``q``."""
        q = np.asarray(q, np.float64)
        position, orientation = self.kinematics.forward(q)
        twist, hold = self.gate.current(now)
        if hold is not Hold.NONE:
            self._previous = np.zeros(6)
            return StepResult(np.zeros(7), hold, position, orientation, float("nan"))
        twist = self.pose_hold.apply(twist, position, orientation, self.config.hold_gain)
        qdot, condition = self._track(q, position, twist, np.asarray(self.config.comfort_posture, float),
                                      self.config.nullspace_gain)  # fmt: skip
        return StepResult(qdot, hold, position, orientation, condition)

    def reset_step(self, q: np.ndarray) -> tuple[np.ndarray, bool]:
        """Joint velocities for one tick towards home, and whether the arm is there (then: zero velocities).
        The operator stop holds a reset too: zeros until it is released."""
        q = np.asarray(q, np.float64)
        if self.gate.operator_stopped:
            self._previous = np.zeros(6)
            return np.zeros(7), False
        if np.max(np.abs(q - self._home)) <= self.config.reset_tolerance:
            self._previous = np.zeros(6)
            self.pose_hold.set(*self._home_pose)
            self.gate.clear()
            return np.zeros(7), True
        position, orientation = self.kinematics.forward(q)
        gain = self.config.reset_gain
        linear = np.clip(gain * (self._home_pose[0] - position), -self.config.reset_linear_speed,
                         self.config.reset_linear_speed)  # fmt: skip
        angular = np.clip(gain * orientation_error(self._home_pose[1], orientation), -self.config.reset_angular_speed,
                          self.config.reset_angular_speed)  # fmt: skip
        qdot, _ = self._track(q, position, np.concatenate([linear, angular]), self._home, gain)
        return qdot, False

    def _track(self, q: np.ndarray, position: np.ndarray, twist: np.ndarray, posture: np.ndarray,
               posture_gain: float) -> tuple[np.ndarray, float]:  # fmt: skip
        twist = limit_twist(twist, self._previous, position, self._dt, self.envelope, self.counters)
        jacobian = self.kinematics.jacobian(q)
        qdot, condition = redundancy_resolution(jacobian, twist, q, posture, posture_gain, self.config)
        condition_after = condition_number(self.kinematics.jacobian(q + qdot * self._dt))
        joints = JointState(q, self.limits.lower, self.limits.upper, self.limits.velocity)
        qdot = limit_joint_velocities(qdot, joints, self._dt, condition, condition_after, self.envelope, self.counters)
        self._previous = jacobian @ qdot
        return qdot, condition
