"""Sawyer kinematics from the MuJoCo model against the robot description and against itself."""

from __future__ import annotations

import numpy as np
import pytest

from rig_drivers.sawyer_kinematics import JOINT_NAMES, NEUTRAL, SAWYER_LIMITS, SawyerKinematics

HALF_PI = 1.57079632679
# The kinematic chain of RethinkRobotics/sawyer_robot, sawyer_description/urdf/sawyer_base.urdf.xacro (commit d1ef3d0):
# each joint's <origin xyz rpy> from its parent link, all revolute about their local z axis, then the fixed
# right_hand joint. An independent forward kinematics (plain homogeneous transforms, URDF rpy convention) is
# the reference the MuJoCo model must agree with.
URDF_JOINTS = (
    ((0.0, 0.0, 0.08), (0.0, 0.0, 0.0)),
    ((0.081, 0.05, 0.237), (-HALF_PI, HALF_PI, 0.0)),
    ((0.0, -0.14, 0.1425), (HALF_PI, 0.0, 0.0)),
    ((0.0, -0.042, 0.26), (-HALF_PI, 0.0, 0.0)),
    ((0.0, -0.125, -0.1265), (HALF_PI, 0.0, 0.0)),
    ((0.0, 0.031, 0.275), (-HALF_PI, 0.0, 0.0)),
    ((0.0, -0.11, 0.1053), (-HALF_PI, -0.17453, 3.1416)),
)
URDF_RIGHT_HAND = ((0.0, 0.0, 0.0245), (0.0, 0.0, 1.570796))
CONFIGURATIONS = (
    np.zeros(7),
    NEUTRAL,
    np.array([0.5, -0.7, 1.0, 1.2, -0.8, 1.1, 0.3]),
    np.array([-1.2, 0.4, -2.0, -1.5, 2.2, -0.6, -3.0]),
)


def _rpy(roll: float, pitch: float, yaw: float) -> np.ndarray:
    cr, sr, cp, sp, cy, sy = np.cos(roll), np.sin(roll), np.cos(pitch), np.sin(pitch), np.cos(yaw), np.sin(yaw)
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    return rz @ ry @ rx


def _transform(xyz: tuple[float, ...], rotation: np.ndarray) -> np.ndarray:
    matrix = np.eye(4)
    matrix[:3, :3], matrix[:3, 3] = rotation, xyz
    return matrix


def urdf_forward(q: np.ndarray) -> np.ndarray:
    """The hand's 4x4 pose in the base frame, from the URDF chain."""
    pose = np.eye(4)
    for (xyz, rpy), angle in zip(URDF_JOINTS, q):
        pose = pose @ _transform(xyz, _rpy(*rpy)) @ _transform((0, 0, 0), _rpy(0, 0, angle))
    return pose @ _transform(URDF_RIGHT_HAND[0], _rpy(*URDF_RIGHT_HAND[1]))


def _rotation_of(quaternion_xyzw: np.ndarray) -> np.ndarray:
    x, y, z, w = quaternion_xyzw
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])  # fmt: skip


@pytest.fixture(scope="module")
def kinematics() -> SawyerKinematics:
    return SawyerKinematics()


@pytest.mark.parametrize("q", CONFIGURATIONS, ids=["zero", "neutral", "bent", "twisted"])
def test_forward_kinematics_matches_the_robot_description(kinematics: SawyerKinematics, q: np.ndarray) -> None:
    reference = urdf_forward(q)
    position, quaternion = kinematics.forward(q)
    assert np.allclose(position, reference[:3, 3], atol=1e-4)
    assert np.allclose(_rotation_of(quaternion), reference[:3, :3], atol=1e-4)


def test_neutral_pose_holds_the_hand_pointing_down_in_front_of_the_robot(kinematics: SawyerKinematics) -> None:
    position, quaternion = kinematics.forward(NEUTRAL)
    assert np.allclose(position, [0.4496, 0.1603, 0.2158], atol=1e-3)
    assert _rotation_of(quaternion)[:, 2] @ np.array([0.0, 0.0, -1.0]) > 0.999  # tool z axis points down


@pytest.mark.parametrize("q", CONFIGURATIONS[1:], ids=["neutral", "bent", "twisted"])
def test_jacobian_matches_finite_differences_of_forward_kinematics(kinematics: SawyerKinematics, q: np.ndarray) -> None:
    jacobian, step = kinematics.jacobian(q), 1e-6
    position, quaternion = kinematics.forward(q)
    rotation = _rotation_of(quaternion)
    for joint in range(len(JOINT_NAMES)):
        moved = q.copy()
        moved[joint] += step
        position_after, quaternion_after = kinematics.forward(moved)
        assert np.allclose((position_after - position) / step, jacobian[:3, joint], atol=1e-4)
        skew = (_rotation_of(quaternion_after) - rotation) / step @ rotation.T  # dR R^T = [omega]x
        assert np.allclose([skew[2, 1], skew[0, 2], skew[1, 0]], jacobian[3:, joint], atol=1e-4)


def test_limits_are_the_robot_descriptions_not_the_task_models(kinematics: SawyerKinematics) -> None:
    assert SAWYER_LIMITS.lower[1] == -3.8095 and SAWYER_LIMITS.upper[1] == 2.2736  # metaworld narrows j1
    assert np.all(SAWYER_LIMITS.lower < NEUTRAL) and np.all(NEUTRAL < SAWYER_LIMITS.upper)
    with pytest.raises(ValueError, match="7 joint angles"):
        kinematics.forward(np.zeros(6))
