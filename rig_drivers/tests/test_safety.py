"""The safety envelope's stages, one behaviour at a time (no middleware, the clock is passed in)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rig_drivers.safety import (
    CommandGate,
    EnvelopeConfig,
    EnvelopeCounters,
    Hold,
    JointState,
    limit_joint_velocities,
    limit_twist,
    singularity_scale,
)

CONFIG = EnvelopeConfig()
DT = 0.01
CENTRE = (np.array(CONFIG.box_low) + np.array(CONFIG.box_high)) / 2
JOINTS = JointState(q=np.zeros(7), lower=-np.ones(7) * 3, upper=np.ones(7) * 3, rated_speed=np.ones(7) * 2)


@pytest.mark.parametrize(
    "linear, angular",
    [((math.nan, 0, 0), (0, 0, 0)), ((0, math.inf, 0), (0, 0, 0)), ((0, 0, 0), (0, 0, -math.inf)),
     ((3.0, 0, 0), (0, 0, 0)), ((1e308, 1e308, 1e308), (0, 0, 0)), ((0, 0, 0), (11.0, 0, 0))],
)  # fmt: skip
def test_gate_rejects_and_counts_bad_commands_and_stops_the_arm(linear: tuple, angular: tuple) -> None:
    gate = CommandGate(CONFIG)
    assert gate.submit((0.1, 0, 0), (0, 0, 0), now=0.0)
    assert not gate.submit(linear, angular, now=0.01)
    twist, hold = gate.current(0.02)
    assert hold is Hold.REJECTED and not np.any(twist)
    assert gate.counters.rejected == 1 and gate.counters.accepted == 1 and gate.last_rejection
    assert gate.submit((0.05, 0, 0), (0, 0, 0), now=0.03)  # a good command takes over again
    assert gate.current(0.03) == (pytest.approx(np.array([0.05, 0, 0, 0, 0, 0])), Hold.NONE)


def test_gate_watchdog_stops_a_stale_command_and_counts_each_stop_once() -> None:
    gate = CommandGate(CONFIG)
    assert gate.current(0.0)[1] is Hold.NO_COMMAND
    gate.submit((0.1, 0, 0), (0, 0, 0.2), now=10.0)
    assert gate.current(10.0 + CONFIG.command_timeout_s)[1] is Hold.NONE
    for later in (0.01, 0.5, 5.0):
        twist, hold = gate.current(10.0 + CONFIG.command_timeout_s + later)
        assert hold is Hold.WATCHDOG and not np.any(twist)
    assert gate.counters.watchdog_stops == 1


def test_operator_stop_holds_until_released_whatever_arrives() -> None:
    gate = CommandGate(CONFIG)
    gate.operator_stopped = True
    gate.submit((0.1, 0, 0), (0, 0, 0), now=0.0)
    assert gate.current(0.0)[1] is Hold.OPERATOR_STOP
    gate.operator_stopped = False
    assert gate.current(0.0)[1] is Hold.NONE


def test_speed_limit_scales_the_command_keeping_its_direction() -> None:
    counters = EnvelopeCounters()
    fast = np.array([0.3, 0.4, 0.0, 0.0, 0.0, 2.0])
    cruising = np.array([0.12, 0.16, 0.0, 0.0, 0.0, 0.5])  # already at the limits: no acceleration limit
    twist = limit_twist(fast, cruising, CENTRE, DT, CONFIG, counters)
    assert np.linalg.norm(twist[:3]) == pytest.approx(CONFIG.max_linear_speed)
    assert np.allclose(twist[:3] / np.linalg.norm(twist[:3]), [0.6, 0.8, 0.0])
    assert np.linalg.norm(twist[3:]) == pytest.approx(CONFIG.max_angular_speed)
    assert counters.speed_clamps == 1


def test_acceleration_limit_ramps_a_step_command() -> None:
    counters = EnvelopeCounters()
    twist = limit_twist(np.array([0.2, 0, 0, 0, 0, 0]), np.zeros(6), CENTRE, DT, CONFIG, counters)
    assert twist[0] == pytest.approx(CONFIG.max_linear_accel * DT)


@pytest.mark.parametrize("axis", range(3))
@pytest.mark.parametrize("side", (-1, 1))
def test_motion_through_a_box_face_is_cut_along_that_axis_only(axis: int, side: int) -> None:
    counters = EnvelopeCounters()
    face = CONFIG.box_high[axis] if side > 0 else CONFIG.box_low[axis]
    position = CENTRE.copy()
    position[axis] = face - side * 0.0005
    command = np.full(6, 0.0)
    command[:3] = 0.05
    command[axis] = side * 0.1
    twist = limit_twist(command, command, position, DT, CONFIG, counters)
    assert twist[axis] == 0.0 and counters.box_cuts == 1
    others = [i for i in range(3) if i != axis]
    assert np.allclose(twist[others], 0.05)
    away = command.copy()
    away[axis] = -side * 0.1
    assert limit_twist(away, away, position, DT, CONFIG, counters)[axis] == pytest.approx(-side * 0.1)


def test_a_hand_outside_the_box_is_sent_back_in() -> None:
    position = CENTRE.copy()
    position[2] = CONFIG.box_high[2] + 0.01
    twist = limit_twist(np.array([0, 0, 0.1, 0, 0, 0]), np.zeros(6), position, DT, CONFIG, EnvelopeCounters())
    assert twist[2] < 0


def test_singularity_scaling_follows_moveit_servo_thresholds() -> None:
    assert singularity_scale(10.0, 11.0, CONFIG) == 1.0
    assert singularity_scale(23.5, 24.0, CONFIG) == pytest.approx(0.5)
    assert singularity_scale(31.0, 32.0, CONFIG) == 0.0
    assert singularity_scale(31.0, 30.0, CONFIG) == 1.0  # leaving: thresholds doubled
    assert singularity_scale(math.inf, math.inf, CONFIG) == 0.0


def test_a_joint_moving_into_its_margin_halts_every_joint() -> None:
    counters = EnvelopeCounters()
    q = np.zeros(7)
    q[3] = 3.0 - CONFIG.joint_margin + 0.001
    joints = JointState(q, JOINTS.lower, JOINTS.upper, JOINTS.rated_speed)
    towards = np.full(7, 0.1)
    assert not np.any(limit_joint_velocities(towards, joints, DT, 5.0, 5.0, CONFIG, counters))
    assert counters.joint_margin_stops == 1
    away = towards.copy()
    away[3] = -0.1
    assert np.array_equal(limit_joint_velocities(away, joints, DT, 5.0, 5.0, CONFIG, counters), away)


def test_joint_speeds_are_scaled_uniformly_to_their_limits() -> None:
    counters = EnvelopeCounters()
    qdot = np.array([4.0, 0.5, 0, 0, 0, 0, -2.0])
    limited = limit_joint_velocities(qdot, JOINTS, DT, 5.0, 5.0, CONFIG, counters)
    assert np.max(np.abs(limited) / (JOINTS.rated_speed * CONFIG.joint_speed_fraction)) == pytest.approx(1.0)
    assert np.allclose(limited / np.linalg.norm(limited), qdot / np.linalg.norm(qdot))
    assert counters.joint_speed_scalings == 1


def test_config_refuses_inconsistent_limits() -> None:
    with pytest.raises(ValueError, match="below box_high"):
        EnvelopeConfig(box_low=(0.5, 0, 0), box_high=(0.4, 1, 1))
    with pytest.raises(ValueError, match="max_linear_speed"):
        EnvelopeConfig(max_linear_speed=math.nan)
    with pytest.raises(ValueError, match="singularity_stop"):
        EnvelopeConfig(singularity_slowdown=30.0, singularity_stop=17.0)
    assert "box" in CONFIG.describe()
