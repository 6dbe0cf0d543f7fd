"""End-effector control of the kinematic Sawyer inside the envelope, and the envelope's fuzz campaign."""

from __future__ import annotations

import numpy as np
import pytest

from rig_drivers.arm_controller import ArmController, ControllerConfig, orientation_error
from rig_drivers.envelope_fuzz import BOX_TOLERANCE, SPEED_TOLERANCE, run_campaign
from rig_drivers.safety import EnvelopeConfig, Hold
from rig_drivers.sawyer_kinematics import NEUTRAL, SAWYER_LIMITS, SawyerKinematics

DT = 0.01


@pytest.fixture(scope="module")
def kinematics() -> SawyerKinematics:
    return SawyerKinematics()


def drive(controller: ArmController, q: np.ndarray, linear: tuple, ticks: int, start: float = 0.0) -> np.ndarray:
    """Command ``linear`` every tick for ``ticks`` ticks of a perfect arm; returns the final joint angles."""
    for tick in range(ticks):
        now = start + tick * DT
        controller.gate.submit(linear, (0.0, 0.0, 0.0), now)
        q = q + controller.step(q, now).qdot * DT
    return q


def test_velocity_commands_move_the_hand_in_their_direction_across_the_workspace(kinematics: SawyerKinematics) -> None:
    envelope = EnvelopeConfig()
    sampler = np.random.default_rng(3)
    postures = [NEUTRAL + sampler.uniform(-0.6, 0.6, 7) for _ in range(200)]  # workspace-wide, usual postures
    well_conditioned = [
        q for q in postures
        if np.linalg.cond(kinematics.jacobian(q)) < envelope.singularity_slowdown
        and np.all(np.abs(kinematics.forward(q)[0] - np.array([0.575, 0.1, 0.25])) < [0.15, 0.25, 0.1])
        and np.all(q > SAWYER_LIMITS.lower + 0.3) and np.all(q < SAWYER_LIMITS.upper - 0.3)
    ][:15]  # fmt: skip
    assert len(well_conditioned) == 15
    rng = np.random.default_rng(4)
    worst = 0.0
    for q in well_conditioned:
        direction = rng.normal(size=3)
        direction /= np.linalg.norm(direction)
        controller = ArmController(kinematics, SAWYER_LIMITS, envelope)
        before = kinematics.forward(q)[0]
        after = kinematics.forward(drive(controller, q, tuple(0.05 * direction), 30))[0]
        moved = after - before
        assert np.linalg.norm(moved) > 0.005
        worst = max(worst, np.degrees(np.arccos(np.clip(moved @ direction / np.linalg.norm(moved), -1, 1))))
    assert worst < 5.0, f"worst direction error {worst:.2f} degrees"


def test_a_planar_episode_keeps_the_hand_in_its_plane_and_its_orientation(kinematics: SawyerKinematics) -> None:
    controller = ArmController(kinematics, SAWYER_LIMITS)
    q = NEUTRAL.copy()
    start_position, start_orientation = kinematics.forward(q)
    rng = np.random.default_rng(0)
    for step in range(50):  # a 50-step episode at 10 Hz: a new planar command every 10 control ticks
        linear = (*rng.uniform(-0.1, 0.1, 2), 0.0)
        q = drive(controller, q, linear, 10, start=step * 0.1)
    position, orientation = kinematics.forward(q)
    assert np.linalg.norm(position[:2] - start_position[:2]) > 0.02  # it did move in the plane
    assert abs(position[2] - start_position[2]) < 0.001
    assert np.linalg.norm(orientation_error(start_orientation, orientation)) < np.radians(0.5)


def test_silence_and_the_operator_stop_give_zero_joint_velocities(kinematics: SawyerKinematics) -> None:
    controller = ArmController(kinematics, SAWYER_LIMITS)
    controller.gate.submit((0.05, 0.0, 0.0), (0.0, 0.0, 0.0), 0.0)
    assert np.any(controller.step(NEUTRAL, 0.0).qdot)
    step = controller.step(NEUTRAL, controller.envelope.command_timeout_s + 0.01)
    assert step.hold is Hold.WATCHDOG and not np.any(step.qdot)
    controller.gate.operator_stopped = True
    controller.gate.submit((0.05, 0.0, 0.0), (0.0, 0.0, 0.0), 1.0)
    step = controller.step(NEUTRAL, 1.0)
    assert step.hold is Hold.OPERATOR_STOP and not np.any(step.qdot)


def test_reset_reaches_the_home_joint_angles_without_leaving_the_box(kinematics: SawyerKinematics) -> None:
    home = (0.2, -1.0, 0.1, 1.9, -0.1, 0.7, 3.0)
    controller = ArmController(kinematics, SAWYER_LIMITS, config=ControllerConfig(home=home))
    q = drive(controller, NEUTRAL.copy(), (0.1, -0.08, 0.05), 150)
    assert np.max(np.abs(q - np.array(home))) > 0.1
    envelope = controller.envelope
    for _ in range(3000):
        qdot, done = controller.reset_step(q)
        if done:
            break
        assert np.max(np.abs(qdot) / (SAWYER_LIMITS.velocity * envelope.joint_speed_fraction)) <= 1 + 1e-9
        q = q + qdot * DT
        position = kinematics.forward(q)[0]
        assert np.all(position > np.array(envelope.box_low) - BOX_TOLERANCE)
        assert np.all(position < np.array(envelope.box_high) + BOX_TOLERANCE)
    assert done, "the reset did not reach home in 30 s"
    assert np.max(np.abs(q - np.array(home))) <= controller.config.reset_tolerance
    assert controller.step(q, 100.0).hold is Hold.NO_COMMAND  # the old command is forgotten after a reset


def test_the_operator_stop_holds_a_reset(kinematics: SawyerKinematics) -> None:
    controller = ArmController(kinematics, SAWYER_LIMITS, config=ControllerConfig(home=(0.2, -1.0, 0.1, 1.9, -0.1, 0.7, 3.0)))
    assert np.any(controller.reset_step(NEUTRAL)[0])
    controller.gate.operator_stopped = True
    qdot, done = controller.reset_step(NEUTRAL)
    assert not done and not np.any(qdot)


def test_a_home_pose_outside_the_box_is_refused(kinematics: SawyerKinematics) -> None:
    with pytest.raises(ValueError, match="outside the workspace box"):
        ArmController(kinematics, SAWYER_LIMITS, EnvelopeConfig(box_low=(0.6, -0.2, 0.1), box_high=(0.8, 0.2, 0.4)))


def test_fuzz_campaign_never_breaks_the_envelope() -> None:
    """10,000 random and adversarial streams (huge values, NaN/inf, bursts, sign flips at the control rate,
    long silences, operator stops, pushes into every face and corner) at 100 Hz on the kinematic model."""
    result = run_campaign(streams=10_000, seed=12345)
    assert result.streams == 10_000 and result.ticks > 300_000
    assert result.violations == [], result.violations[:5]
    assert result.bad_commands > 5_000 and result.rejected_counted == result.bad_commands
    assert result.moved_while_held == 0
    assert result.worst_box_excursion <= BOX_TOLERANCE
    assert result.worst_joint_limit_excursion < 0
    assert result.worst_joint_speed_ratio <= 1 + 1e-9
    assert result.worst_hand_speed <= EnvelopeConfig().max_linear_speed * SPEED_TOLERANCE
