"""The Intera driver's logic without middleware: a perfect kinematic arm answers its joint velocities."""

from __future__ import annotations

import numpy as np
import pytest

from rig_drivers.arm_controller import ArmController, ControllerConfig
from rig_drivers.safety import EnvelopeConfig, Hold
from rig_drivers.sawyer_kinematics import JOINT_NAMES, NEUTRAL, SAWYER_LIMITS, SawyerKinematics
from rig_sawyer_driver.driver import DriverCore, Mode, RobotState

DT = 0.01
ENABLED = RobotState(enabled=True, stopped=False, error=False)
ROBOT_NAMES = ["head_pan", *reversed(JOINT_NAMES)]  # the robot lists its head too, in its own order


@pytest.fixture(scope="module")
def kinematics() -> SawyerKinematics:
    return SawyerKinematics()


def make_core(kinematics: SawyerKinematics, home: np.ndarray = NEUTRAL, reset_timeout_s: float = 30.0) -> DriverCore:
    controller = ArmController(kinematics, SAWYER_LIMITS, EnvelopeConfig(), ControllerConfig(home=tuple(home)))
    return DriverCore(controller, joint_state_timeout_s=0.1, reset_timeout_s=reset_timeout_s)


def report(core: DriverCore, q: np.ndarray, now: float) -> None:
    by_name = dict(zip(JOINT_NAMES, q))
    core.on_joint_state(ROBOT_NAMES, [0.3 if name == "head_pan" else by_name[name] for name in ROBOT_NAMES], now)


def test_nothing_is_streamed_without_fresh_joint_states_or_an_enabled_robot(kinematics: SawyerKinematics) -> None:
    core = make_core(kinematics)
    assert core.tick(0.0).qdot is None and core.mode is Mode.NO_JOINT_STATES
    report(core, NEUTRAL, 0.0)
    assert core.tick(0.0).mode is Mode.DISABLED and core.tick(0.0).qdot is None
    core.on_robot_state(RobotState(enabled=True, stopped=True, error=False))
    assert core.tick(0.0).mode is Mode.ESTOP
    core.on_robot_state(RobotState(enabled=True, stopped=False, error=True))
    assert core.tick(0.0).mode is Mode.ROBOT_ERROR
    core.on_robot_state(ENABLED)
    assert core.tick(0.05).mode is Mode.READY
    assert core.tick(0.2).mode is Mode.NO_JOINT_STATES  # joint states stopped arriving


def test_joints_are_picked_by_name_and_commands_stream(kinematics: SawyerKinematics) -> None:
    core = make_core(kinematics)
    core.on_robot_state(ENABLED)
    report(core, NEUTRAL, 0.0)
    assert np.array_equal(core.q, NEUTRAL)
    idle = core.tick(0.0)
    assert idle.mode is Mode.READY and idle.step is not None and idle.step.hold is Hold.NO_COMMAND
    assert np.array_equal(idle.qdot, np.zeros(7))  # held: zeros are streamed
    assert core.on_command((0.05, 0.0, 0.0), (0.0, 0.0, 0.0), 0.0)
    moving = core.tick(0.0)
    assert moving.step.hold is Hold.NONE and np.any(moving.qdot)
    velocity = kinematics.jacobian(NEUTRAL) @ moving.qdot
    assert velocity[0] > 0 and abs(velocity[1]) < 0.1 * velocity[0]


def test_bad_joint_states_and_commands_are_refused_and_reported(kinematics: SawyerKinematics) -> None:
    core = make_core(kinematics)
    core.on_joint_state(["right_j0"], [0.0], 0.0)
    assert core.q is None and "joint state without" in core.last_error
    report(core, np.full(7, np.nan), 0.0)
    assert core.q is None and "non-finite" in core.last_error
    assert not core.on_command((float("nan"), 0.0, 0.0), (0.0, 0.0, 0.0), 0.0)
    assert "rejected a velocity command" in core.last_error and core.controller.counters.rejected == 1


def test_reset_answers_only_at_home_and_again_when_asked_again(kinematics: SawyerKinematics) -> None:
    home = np.array([0.2, -1.0, 0.1, 1.9, -0.1, 0.7, 3.0])
    core = make_core(kinematics, home)
    core.on_robot_state(ENABLED)
    q, now, answered = NEUTRAL.copy(), 0.0, None
    report(core, q, now)
    assert core.request_reset(4, now) is None
    for _ in range(3000):
        output = core.tick(now)
        if output.reset_done is not None:
            answered = output.reset_done
            break
        assert output.mode is Mode.RESETTING
        q, now = q + output.qdot * DT, now + DT
        report(core, q, now)
    assert answered == 4 and np.max(np.abs(q - home)) <= core.controller.config.reset_tolerance
    assert core.tick(now).mode is Mode.READY
    assert core.request_reset(4, now) == 4  # the answer was lost: answered again, no new motion
    assert core.tick(now).mode is Mode.READY
    assert core.request_reset(5, now) is None and core.tick(now).reset_done == 5  # already home: done at once


def test_a_reset_that_cannot_finish_gives_up_with_an_error(kinematics: SawyerKinematics) -> None:
    core = make_core(kinematics, np.array([0.2, -1.0, 0.1, 1.9, -0.1, 0.7, 3.0]), reset_timeout_s=0.5)
    core.on_robot_state(ENABLED)
    report(core, NEUTRAL, 0.0)  # the arm never moves: joint states stay at NEUTRAL
    core.request_reset(1, 0.0)
    assert core.tick(0.05).mode is Mode.RESETTING
    report(core, NEUTRAL, 0.6)
    output = core.tick(0.6)
    assert output.mode is Mode.READY and output.reset_done is None and "did not reach home" in core.last_error


def test_the_operator_stop_holds_a_reset_until_released(kinematics: SawyerKinematics) -> None:
    core = make_core(kinematics, np.array([0.2, -1.0, 0.1, 1.9, -0.1, 0.7, 3.0]), reset_timeout_s=0.5)
    core.on_robot_state(ENABLED)
    report(core, NEUTRAL, 0.0)
    core.request_reset(2, 0.0)
    assert np.any(core.tick(0.0).qdot)  # moving home
    core.set_operator_stop(True)
    for now in (0.01, 0.3, 0.9, 2.0):  # longer than the reset's time limit: it waits, it does not give up
        report(core, NEUTRAL, now)
        held = core.tick(now)
        assert held.mode is Mode.RESETTING and not np.any(held.qdot) and held.step.hold is Hold.OPERATOR_STOP
    core.set_operator_stop(False)
    assert np.any(core.tick(2.0).qdot) and core.mode is Mode.RESETTING
