"""Sawyer arm kinematics from the same MuJoCo model the simulated tasks use (metaworld's Sawyer, built from
Rethink's sawyer_description): forward kinematics and the Jacobian of the `right_hand` frame in the `base` frame.

Usage::

    kinematics = SawyerKinematics()
    position, quaternion_xyzw = kinematics.forward(NEUTRAL)
    jacobian = kinematics.jacobian(NEUTRAL)      # (6, 7): linear rows x, y, z, then angular rows x, y, z

Joint limits are the robot description's (ROS_REFERENCE.md §4, sawyer_base.urdf.xacro), not the model's:
metaworld narrows right_j1 to [-3.8, -0.5] for its tasks, the real arm's range is [-3.8095, 2.2736].
An instance owns one MjData and is not thread-safe: make one per thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from rig_core.envs.scene import build_model

JOINT_NAMES = tuple(f"right_j{index}" for index in range(7))
HAND_BODY = "right_hand"
BASE_BODY = "base"
NEUTRAL = np.array([0.0, -1.18, 0.0, 2.18, 0.0, 0.57, 3.3161])
"""Intera's named pose `neutral` (sawyer_description params/named_poses.yaml)."""


@dataclass(frozen=True)
class JointLimits:
    """Per-joint position range (rad) and speed limit (rad/s), in JOINT_NAMES order."""

    lower: np.ndarray
    upper: np.ndarray
    velocity: np.ndarray


SAWYER_LIMITS = JointLimits(
    lower=np.array([-3.0503, -3.8095, -3.0426, -3.0439, -2.9761, -2.9761, -4.7124]),
    upper=np.array([3.0503, 2.2736, 3.0426, 3.0439, 2.9761, 2.9761, 4.7124]),
    velocity=np.array([1.74, 1.328, 1.957, 1.957, 3.485, 3.485, 4.545]),
)


class SawyerKinematics:
    """Forward kinematics and Jacobian of the Sawyer's right_hand frame, expressed in its base frame."""

    def __init__(self) -> None:
        self.model = build_model(0)
        self.data = mujoco.MjData(self.model)
        joints = [self.model.joint(name).id for name in JOINT_NAMES]
        self._qpos = np.array([self.model.jnt_qposadr[joint] for joint in joints])
        self._dofs = np.array([self.model.jnt_dofadr[joint] for joint in joints])
        self._hand, self._base = self.model.body(HAND_BODY).id, self.model.body(BASE_BODY).id
        self._jacp = np.zeros((3, self.model.nv))
        self._jacr = np.zeros((3, self.model.nv))

    def forward(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The hand's position (m) and orientation (quaternion x, y, z, w) in the base frame at joint angles q."""
        self._set(q)
        base_rotation = self.data.xmat[self._base].reshape(3, 3)
        position = base_rotation.T @ (self.data.xpos[self._hand] - self.data.xpos[self._base])
        relative = np.empty(4)
        base_inverse = np.empty(4)
        mujoco.mju_negQuat(base_inverse, self.data.xquat[self._base])
        mujoco.mju_mulQuat(relative, base_inverse, self.data.xquat[self._hand])
        w, x, y, z = relative / np.linalg.norm(relative)
        return position, np.array([x, y, z, w])

    def jacobian(self, q: np.ndarray) -> np.ndarray:
        """(6, 7) Jacobian of the hand frame's origin velocity (linear, then angular) in the base frame."""
        self._set(q)
        mujoco.mj_comPos(self.model, self.data)
        mujoco.mj_jacBody(self.model, self.data, self._jacp, self._jacr, self._hand)
        base_rotation = self.data.xmat[self._base].reshape(3, 3)
        return np.vstack([base_rotation.T @ self._jacp[:, self._dofs], base_rotation.T @ self._jacr[:, self._dofs]])

    def _set(self, q: np.ndarray) -> None:
        q = np.asarray(q, np.float64).reshape(-1)
        if q.shape != (len(JOINT_NAMES),):
            raise ValueError(f"expected {len(JOINT_NAMES)} joint angles, got {q.shape[0]}")
        self.data.qpos[self._qpos] = q
        mujoco.mj_kinematics(self.model, self.data)
