"""The simulated driver's logic on a real rig_core task, without any middleware (the clock is passed in)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import pytest

from rig_core.envs import make_task
from rig_core.envs.tasks import TASKS
from rig_drivers.safety import Hold
from rig_drivers.sim_driver import SimDriver, episode_seed, velocity_to_action

SPEC = TASKS["visual-reacher"]
RATE_HZ = 10.0
LOG = logging.getLogger("sim_driver_test")


@pytest.fixture(scope="module")
def driver() -> Iterator[SimDriver]:
    sim = SimDriver(make_task("visual-reacher", 84), SPEC.action_scale, RATE_HZ, 0.5, 7, LOG)
    yield sim
    sim.close()


def test_velocity_becomes_the_action_that_covers_it_in_one_step() -> None:
    assert np.allclose(velocity_to_action(0.05, -0.02, 0.01, 10.0), [0.5, -0.2])
    assert np.array_equal(velocity_to_action(3.0, -3.0, 0.01, 10.0), [1.0, -1.0])  # the speed limit


def test_the_envelope_is_the_tasks_box_plus_one_step_and_its_speed(driver: SimDriver) -> None:
    envelope = driver.envelope
    assert envelope.box_low[:2] == pytest.approx((SPEC.hand_low[0] - 0.01, SPEC.hand_low[1] - 0.01))
    assert envelope.box_high[:2] == pytest.approx((SPEC.hand_high[0] + 0.01, SPEC.hand_high[1] + 0.01))
    assert envelope.max_linear_speed == pytest.approx(0.1 * np.sqrt(2))  # full action on both axes
    assert envelope.command_timeout_s == 0.5


def test_episode_seeds_are_reproducible_and_distinct() -> None:
    assert episode_seed(0, 3) == episode_seed(0, 3)
    assert len({episode_seed(seed, episode) for seed in range(3) for episode in range(3)}) == 9


def test_a_command_moves_the_hand_until_it_times_out(driver: SimDriver) -> None:
    driver.reset(0)
    start = driver.observe().state
    direction = -1.0 if start[0] > 0 else 1.0  # away from the nearer x edge of the hand box
    driver.command((direction * 0.05, 0.0, 0.0), (0.0, 0.0, 0.0), now=1000.0)
    moved = [driver.tick(1000.0 + 0.1 * i) for i in range(1, 5)]  # 0.4 s: within the 0.5 s timeout
    assert all(obs is not None for obs in moved)
    travelled = (moved[-1].state[0] - start[0]) * direction
    assert 0.015 < travelled < 0.025  # 4 steps of 5 mm (the welded hand follows its target within a millimetre)
    assert moved[-1].step == 4 and moved[-1].episode_id == 1
    assert driver.gate.current(1000.6)[1] is Hold.WATCHDOG
    assert np.array_equal(driver.action(1000.6), [0.0, 0.0])


def test_a_tick_too_soon_after_a_step_is_skipped(driver: SimDriver) -> None:
    assert driver.tick(2000.0) is not None
    assert driver.tick(2000.04) is None  # under half a period (0.1 s) later
    assert driver.tick(2000.1) is not None


def test_non_finite_commands_are_rejected_and_stop_the_hand(driver: SimDriver, caplog: pytest.LogCaptureFixture) -> None:
    driver.command((0.05, 0.0, 0.0), (0.0, 0.0, 0.0), now=3000.0)
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        driver.command((float("nan"), 0.0, 0.0), (0.0, 0.0, 0.0), now=3000.1)
    assert driver.gate.current(3000.1)[1] is Hold.REJECTED and driver.gate.counters.rejected >= 1
    assert np.array_equal(driver.action(3000.1), [0.0, 0.0])
    assert "non-finite" in caplog.text


def test_ignored_axes_are_reported_once(driver: SimDriver, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        driver.command((0.01, 0.0, 0.2), (0.0, 0.0, 0.5), now=4000.0)
        driver.command((0.01, 0.0, 0.2), (0.0, 0.0, 0.5), now=4000.1)
    assert caplog.text.count("are ignored") == 1
    assert np.allclose(driver.gate.current(4000.1)[0], [0.01, 0.0, 0.0, 0.0, 0.0, 0.0])


def test_reset_is_seeded_per_episode_and_zeroes_the_command(driver: SimDriver) -> None:
    driver.command((0.05, 0.0, 0.0), (0.0, 0.0, 0.0), now=5000.0)
    first = driver.reset(4)
    assert (first.episode_id, first.step) == (5, 0)
    assert driver.gate.current(5000.0)[1] is Hold.NO_COMMAND
    driver.tick(5000.0)
    again = driver.reset(4)
    assert np.allclose(again.state, first.state, atol=1e-9) and np.array_equal(again.goal_state, first.goal_state)
    assert not np.array_equal(driver.reset(5).goal_state, first.goal_state)


def test_goal_states_are_checked_and_rendered(driver: SimDriver) -> None:
    for bad in ([0.1, 0.6, 0.0], [float("inf"), 0.6], []):
        with pytest.raises(ValueError, match="finite numbers"):
            driver.set_goal(np.array(bad))
    goal = driver.set_goal(np.array([0.05, 0.62]))
    obs = driver.observe()
    assert np.array_equal(obs.goal_state, goal) and np.allclose(goal, [0.05, 0.62])
    assert obs.distances["hand_distance"] == pytest.approx(float(np.linalg.norm(obs.state - goal)))
    assert np.array_equal(driver.goal_image(), driver.task.render_state(goal))
