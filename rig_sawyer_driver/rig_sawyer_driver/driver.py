"""The Intera driver's logic, free of any middleware: what arrives (joint states, robot state, velocity commands,
reset requests, operator stop) and what one control tick streams. Thread-safe: the node calls it from the ROS 2
executor, from rospy's callback threads and from its control loop.

Modes (reported on the status topic):

* ``no_joint_states``: nothing heard from the robot lately; nothing is streamed (the robot holds by itself).
* ``disabled`` / ``estop`` / ``robot_error``: the robot says so; nothing is streamed until it is fine again.
* ``ready``: velocity commands stream at the control rate (zeros while the envelope holds the arm).
* ``resetting``: moving to the home pose; RESET_DONE is answered only when the joints are there.
"""

from __future__ import annotations

import enum
import threading
import time
from dataclasses import dataclass

import numpy as np

from rig_drivers.arm_controller import ArmController, StepResult
from rig_drivers.sawyer_kinematics import JOINT_NAMES


class Mode(enum.Enum):
    """What the driver is doing (the status topic's ``mode``)."""

    NO_JOINT_STATES = "no_joint_states"
    DISABLED = "disabled"
    ESTOP = "estop"
    ROBOT_ERROR = "robot_error"
    READY = "ready"
    RESETTING = "resetting"


@dataclass(frozen=True)
class RobotState:
    """The fields of intera_core_msgs/RobotAssemblyState the driver acts on."""

    enabled: bool
    stopped: bool
    error: bool


@dataclass(frozen=True)
class TickOutput:
    """One control tick: joint velocities to stream (None: stream nothing), and an episode to answer RESET_DONE."""

    qdot: np.ndarray | None
    mode: Mode
    step: StepResult | None = None
    reset_done: int | None = None


class DriverCore:
    """State shared by the driver's threads, and the control tick."""

    def __init__(self, controller: ArmController, joint_state_timeout_s: float, reset_timeout_s: float) -> None:
        self.controller = controller
        self.joint_state_timeout_s, self.reset_timeout_s = joint_state_timeout_s, reset_timeout_s
        self.robot_state: RobotState | None = None
        self.last_error = ""
        self._lock = threading.Lock()
        self._q: np.ndarray | None = None
        self._q_at = -np.inf
        self._reset_episode: int | None = None
        self._reset_started = 0.0
        self._last_reset_done: int | None = None
        self.mode = Mode.NO_JOINT_STATES

    @property
    def q(self) -> np.ndarray | None:
        """The newest measured joint angles (JOINT_NAMES order), None before the first joint state."""
        with self._lock:
            return None if self._q is None else self._q.copy()

    def on_joint_state(self, names: list[str], positions: list[float], now: float) -> None:
        """A sensor_msgs/JointState from the robot: the arm's joints are picked by name (it lists others too)."""
        index = {name: i for i, name in enumerate(names)}
        if not all(name in index for name in JOINT_NAMES) or len(positions) != len(names):
            with self._lock:
                self._error(f"joint state without all of {', '.join(JOINT_NAMES)}: {names}")
            return
        q = np.array([positions[index[name]] for name in JOINT_NAMES], np.float64)
        if not np.all(np.isfinite(q)):
            with self._lock:
                self._error(f"joint state with non-finite angles {q.tolist()}")
            return
        with self._lock:
            self._q, self._q_at = q, now

    def on_robot_state(self, state: RobotState) -> None:
        with self._lock:
            self.robot_state = state

    def on_command(self, linear: tuple[float, float, float], angular: tuple[float, float, float], now: float) -> bool:
        """A hand velocity command; False if the envelope rejected it (counted, and the arm stops)."""
        with self._lock:
            accepted = self.controller.gate.submit(linear, angular, now)
            if not accepted:
                self._error(f"rejected a velocity command: {self.controller.gate.last_rejection}")
            return accepted

    def set_operator_stop(self, stopped: bool) -> None:
        with self._lock:
            self.controller.gate.operator_stopped = stopped

    def request_reset(self, episode_id: int, now: float) -> int | None:
        """A RESET_REQUEST after ``episode_id``; returns the episode to answer at once if that reset is done already
        (a repeated request), else None (the answer comes from a later tick)."""
        with self._lock:
            if self._last_reset_done == episode_id and self._reset_episode is None:
                return episode_id
            if self._reset_episode != episode_id:
                self._reset_episode, self._reset_started = episode_id, now
            return None

    def tick(self, now: float) -> TickOutput:
        """One control tick at ``now`` (monotonic s)."""
        with self._lock:
            self.mode = self._mode(now)
            if self.mode not in (Mode.READY, Mode.RESETTING) or self._q is None:
                return TickOutput(None, self.mode)
            if self.mode is Mode.RESETTING:
                return self._reset_tick(now)
            step = self.controller.step(self._q, now)
            return TickOutput(step.qdot, self.mode, step)

    def _error(self, message: str) -> None:
        self.last_error = f"{time.strftime('%H:%M:%S')} {message}"

    def _mode(self, now: float) -> Mode:
        if self._q is None or now - self._q_at > self.joint_state_timeout_s:
            return Mode.NO_JOINT_STATES
        state = self.robot_state
        if state is not None and state.stopped:
            return Mode.ESTOP
        if state is not None and state.error:
            return Mode.ROBOT_ERROR
        if state is None or not state.enabled:
            return Mode.DISABLED
        return Mode.RESETTING if self._reset_episode is not None else Mode.READY

    def _reset_tick(self, now: float) -> TickOutput:
        assert self._q is not None and self._reset_episode is not None
        if self.controller.gate.operator_stopped:  # held where it is; the reset's time limit counts from the release
            self._reset_started = now
            step = self.controller.step(self._q, now)
            return TickOutput(step.qdot, Mode.RESETTING, step)
        qdot, done = self.controller.reset_step(self._q)
        if done:
            episode, self._reset_episode, self._last_reset_done = self._reset_episode, None, self._reset_episode
            return TickOutput(qdot, Mode.READY, reset_done=episode)
        if now - self._reset_started > self.reset_timeout_s:
            self._error(f"reset after episode {self._reset_episode} did not reach home within {self.reset_timeout_s} s; "
                        "holding, a new RESET_REQUEST tries again")
            self._reset_episode = None
            return TickOutput(np.zeros(len(JOINT_NAMES)), Mode.READY)
        return TickOutput(qdot, Mode.RESETTING)
