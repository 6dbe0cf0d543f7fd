"""The simulated arm's joint controller, without ROS: enable, e-stop, velocity and position commands, timeout, limits."""

from __future__ import annotations

import numpy as np
import pytest

from rig_drivers.sawyer_kinematics import NEUTRAL, SAWYER_LIMITS
from rig_sawyer_driver.intera_arm_model import InteraArmModel


def enabled_arm(initial: np.ndarray = NEUTRAL) -> InteraArmModel:
    arm = InteraArmModel(initial, SAWYER_LIMITS)
    arm.enable(True)
    arm.step(0.0)
    return arm


def test_velocity_command_moves_the_named_joints_and_holds_the_others() -> None:
    arm = enabled_arm()
    arm.command_velocity(["right_j3", "right_j0"], [-0.2, 0.5], now_s=0.0)
    arm.step(0.1)
    expected = NEUTRAL.copy()
    expected[0] += 0.05
    expected[3] -= 0.02
    assert np.allclose(arm.q, expected)
    assert np.allclose(arm.qdot, [0.5, 0, 0, -0.2, 0, 0, 0])


def test_velocity_is_clamped_to_the_joint_speed_limit() -> None:
    arm = enabled_arm()
    arm.command_velocity(["right_j1"], [-10.0], now_s=0.0)
    arm.step(0.1)
    assert arm.qdot[1] == pytest.approx(-SAWYER_LIMITS.velocity[1])
    assert arm.q[1] == pytest.approx(NEUTRAL[1] - 0.1 * SAWYER_LIMITS.velocity[1])


def test_joints_stop_at_their_position_limits() -> None:
    start = NEUTRAL.copy()
    start[6] = SAWYER_LIMITS.upper[6] - 0.01
    arm = enabled_arm(start)
    arm.command_velocity(["right_j6"], [1.0], now_s=0.0)
    arm.step(0.1)
    assert arm.q[6] == SAWYER_LIMITS.upper[6]
    arm.command_velocity(["right_j6"], [1.0], now_s=0.1)
    arm.step(0.2)
    assert arm.q[6] == SAWYER_LIMITS.upper[6] and arm.qdot[6] == 0.0


def test_a_command_moves_the_arm_until_its_timeout_only() -> None:
    arm = enabled_arm()
    arm.set_timeout(0.2)
    arm.command_velocity(["right_j0"], [1.0], now_s=0.0)
    arm.step(0.5)  # a late step integrates up to the timeout, not beyond
    assert arm.q[0] == pytest.approx(NEUTRAL[0] + 0.2)
    arm.step(0.6)
    assert arm.q[0] == pytest.approx(NEUTRAL[0] + 0.2) and np.all(arm.qdot == 0)


def test_a_longer_timeout_keeps_the_command_alive() -> None:
    arm = enabled_arm()
    arm.set_timeout(1.0)
    arm.command_velocity(["right_j0"], [1.0], now_s=0.0)
    arm.step(0.5)
    assert arm.q[0] == pytest.approx(NEUTRAL[0] + 0.5)


def test_position_command_approaches_the_target_at_the_position_speed_and_stops_there() -> None:
    arm = enabled_arm()
    target = NEUTRAL[5] + 0.1
    speed = 0.3 * SAWYER_LIMITS.velocity[5]
    arm.command_position(["right_j5"], [target], now_s=0.0)
    arm.step(0.01)
    assert arm.q[5] == pytest.approx(NEUTRAL[5] + 0.01 * speed)
    for tick in range(2, 20):
        arm.command_position(["right_j5"], [target], now_s=tick * 0.01)
        arm.step((tick + 1) * 0.01)
    assert arm.q[5] == pytest.approx(target) and arm.qdot[5] == pytest.approx(0.0)
    assert np.allclose(np.delete(arm.q, 5), np.delete(NEUTRAL, 5))


def test_a_disabled_arm_refuses_commands_and_does_not_move() -> None:
    arm = InteraArmModel(NEUTRAL, SAWYER_LIMITS)
    with pytest.raises(ValueError, match="not enabled"):
        arm.command_velocity(["right_j0"], [1.0], now_s=0.0)
    arm.step(0.0)
    arm.step(0.1)
    assert np.array_equal(arm.q, NEUTRAL)


def test_disabling_drops_the_command() -> None:
    arm = enabled_arm()
    arm.command_velocity(["right_j0"], [1.0], now_s=0.0)
    arm.enable(False)
    arm.enable(True)
    arm.step(0.1)
    assert np.array_equal(arm.q, NEUTRAL)


def test_e_stop_disables_and_blocks_enabling_until_reset() -> None:
    arm = enabled_arm()
    arm.command_velocity(["right_j0"], [1.0], now_s=0.0)
    arm.stop()
    arm.step(0.1)
    assert np.array_equal(arm.q, NEUTRAL) and arm.stopped and not arm.enabled
    with pytest.raises(ValueError, match="e-stop"):
        arm.enable(True)
    arm.reset()
    assert not arm.stopped and not arm.enabled
    arm.enable(True)
    arm.command_velocity(["right_j0"], [1.0], now_s=0.1)
    arm.step(0.2)
    assert arm.q[0] == pytest.approx(NEUTRAL[0] + 0.1)


@pytest.mark.parametrize(
    ("names", "values", "match"),
    [(["right_j0"], [0.1, 0.2], "1 names but 2 values"), (["head_pan"], [0.1], "unknown joints"),
     (["right_j0"], [float("nan")], "finite")],
)  # fmt: skip
def test_malformed_commands_are_refused_and_the_previous_one_stays(names: list[str], values: list[float],
                                                                   match: str) -> None:  # fmt: skip
    arm = enabled_arm()
    arm.command_velocity(["right_j1"], [0.1], now_s=0.0)
    with pytest.raises(ValueError, match=match):
        arm.command_velocity(names, values, now_s=0.05)
    arm.step(0.1)
    assert arm.q[1] == pytest.approx(NEUTRAL[1] + 0.01) and arm.q[0] == NEUTRAL[0]


@pytest.mark.parametrize("timeout_s", [0.0, -1.0, float("inf"), float("nan")])
def test_the_timeout_must_be_positive_and_finite(timeout_s: float) -> None:
    arm = enabled_arm()
    with pytest.raises(ValueError, match="positive"):
        arm.set_timeout(timeout_s)
    assert arm.timeout_s == 0.2


def test_initial_joints_must_be_seven_finite_numbers() -> None:
    with pytest.raises(ValueError, match="7 finite"):
        InteraArmModel([0.0] * 6, SAWYER_LIMITS)
    with pytest.raises(ValueError, match="7 finite"):
        InteraArmModel([float("nan")] * 7, SAWYER_LIMITS)
