"""The fuzz campaign of the safety envelope: random and adversarial command streams through `ArmController`
against the kinematic Sawyer model at the control rate, checking every tick. Used by the tests and by
`benchmarks/safety_fuzz.py` (which reports the campaign's figures).

Each stream starts from a joint configuration whose hand lies in the box (sampled over the joint ranges, so
starts near joint limits, odd orientations and stretched arms are included), then delivers, tick by tick,
nothing, one command or a burst of commands, and sometimes toggles the operator stop. The joints integrate
exactly what the controller streams (a perfect arm: the envelope is judged, not a servo).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from rig_drivers.arm_controller import ArmController, ControllerConfig
from rig_drivers.safety import EnvelopeConfig, Hold
from rig_drivers.sawyer_kinematics import SAWYER_LIMITS, SawyerKinematics

Command = tuple[tuple[float, float, float], tuple[float, float, float]]
Tick = tuple[list[Command], bool | None]
"""What arrives in one tick: the commands (possibly none), and an operator stop change (None: no change)."""

BOX_TOLERANCE = 0.005
"""How far (m) the hand may be outside the box: the box cut acts on the commanded twist, the arm follows the
joint velocities, which differ from it at second order (and a stretched arm can drift before it is sent back)."""
SPEED_TOLERANCE = 1.05
"""Measured hand speed may exceed the limit by this factor (finite-difference and second-order effects)."""


@dataclass
class CampaignResult:
    """The campaign's figures."""

    streams: int = 0
    ticks: int = 0
    commands: int = 0
    bad_commands: int = 0
    rejected_counted: int = 0
    worst_box_excursion: float = 0.0
    worst_joint_limit_excursion: float = -np.inf
    worst_joint_speed_ratio: float = 0.0
    worst_hand_speed: float = 0.0
    moved_while_held: int = 0
    violations: list[str] = field(default_factory=list)


def _is_bad(command: Command, envelope: EnvelopeConfig) -> bool:
    values = np.array([*command[0], *command[1]], dtype=np.float64)
    if not np.all(np.isfinite(values)):
        return True
    if np.max(np.abs(values)) > max(envelope.reject_linear_speed, envelope.reject_angular_speed):
        return True
    return bool(np.linalg.norm(values[:3]) > envelope.reject_linear_speed
                or np.linalg.norm(values[3:]) > envelope.reject_angular_speed)  # fmt: skip


def start_pool(kinematics: SawyerKinematics, envelope: EnvelopeConfig, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` joint configurations, uniform over the joint ranges inside their margins, with the hand in the box."""
    lower, upper = SAWYER_LIMITS.lower + envelope.joint_margin, SAWYER_LIMITS.upper - envelope.joint_margin
    pool: list[np.ndarray] = []
    while len(pool) < count:
        q = rng.uniform(lower, upper)
        position = kinematics.forward(q)[0]
        if np.all(position >= envelope.box_low) and np.all(position <= envelope.box_high):
            pool.append(q)
    return np.array(pool)


def _vector(rng: np.random.Generator, scale: float) -> tuple[float, float, float]:
    return tuple(float(v) for v in rng.uniform(-scale, scale, 3))  # type: ignore[return-value]


ZERO = (0.0, 0.0, 0.0)
HUGE = (1e3, 1e9, 1e308, -1e308, 1e6)


def _random(rng: np.random.Generator, length: int, envelope: EnvelopeConfig) -> Iterator[Tick]:
    for _ in range(length):
        yield ([(_vector(rng, 0.5), _vector(rng, 1.0))] if rng.random() < 0.5 else []), None


def _garbage(rng: np.random.Generator, length: int, envelope: EnvelopeConfig) -> Iterator[Tick]:
    """Valid commands mixed with NaN, inf and huge values in random components."""
    for _ in range(length):
        values = np.array([*_vector(rng, 0.3), *_vector(rng, 0.5)])
        if rng.random() < 0.4:
            values[rng.integers(6)] = rng.choice([np.nan, np.inf, -np.inf, *HUGE])
        yield [((values[0], values[1], values[2]), (values[3], values[4], values[5]))], None


def _bursts(rng: np.random.Generator, length: int, envelope: EnvelopeConfig) -> Iterator[Tick]:
    """Bursts of many commands in one tick, then silence longer than the watchdog."""
    tick = 0
    while tick < length:
        yield [(_vector(rng, 1.0), _vector(rng, 2.0)) for _ in range(int(rng.integers(2, 50)))], None
        silence = int(rng.integers(1, 60))
        for _ in range(min(silence, length - tick - 1)):
            yield [], None
        tick += 1 + silence


def _sign_flips(rng: np.random.Generator, length: int, envelope: EnvelopeConfig) -> Iterator[Tick]:
    """Full-speed commands whose sign flips every tick, on a random axis set."""
    direction = np.array(_vector(rng, 1.0)) * rng.uniform(0.5, 3.0) * envelope.max_linear_speed
    for tick in range(length):
        sign = 1.0 if tick % 2 == 0 else -1.0
        linear = tuple(float(v) for v in sign * direction)
        yield [(linear, ZERO)], None  # type: ignore[list-item]


def _silences(rng: np.random.Generator, length: int, envelope: EnvelopeConfig) -> Iterator[Tick]:
    """One command, then long silences (well past the watchdog), repeatedly."""
    for tick in range(length):
        yield ([(_vector(rng, 0.3), ZERO)] if tick % 45 == 0 else []), None


def _operator_stops(rng: np.random.Generator, length: int, envelope: EnvelopeConfig) -> Iterator[Tick]:
    """Steady commands while the operator stop is pressed and released at random."""
    linear = _vector(rng, 0.3)
    for _ in range(length):
        toggle = None if rng.random() > 0.08 else bool(rng.random() < 0.5)
        yield [(linear, ZERO)], toggle


def _into_box_faces(rng: np.random.Generator, length: int, envelope: EnvelopeConfig) -> Iterator[Tick]:
    """Commands straight into one face, edge or corner of the box, from slow to far over the speed limit."""
    direction = rng.choice([-1.0, 0.0, 1.0], 3)
    while not np.any(direction):
        direction = rng.choice([-1.0, 0.0, 1.0], 3)
    speed = rng.uniform(0.2, 1.5) * envelope.reject_linear_speed / np.sqrt(3)
    linear = tuple(float(v) for v in direction * speed)
    spin = _vector(rng, 0.5) if rng.random() < 0.3 else ZERO
    for _ in range(length):
        yield [(linear, spin)], None  # type: ignore[list-item]


STREAMS: dict[str, Callable[[np.random.Generator, int, EnvelopeConfig], Iterator[Tick]]] = {
    "random": _random,
    "garbage": _garbage,
    "bursts": _bursts,
    "sign_flips": _sign_flips,
    "silences": _silences,
    "operator_stops": _operator_stops,
    "into_box_faces": _into_box_faces,
}


def run_stream(controller: ArmController, kinematics: SawyerKinematics, q: np.ndarray, ticks: Iterator[Tick],
               result: CampaignResult) -> None:  # fmt: skip
    """Drive one stream from joint angles ``q``; record figures and every violation in ``result``."""
    envelope, dt = controller.envelope, 1.0 / controller.config.rate_hz
    position = kinematics.forward(q)[0]
    rejected_before = controller.counters.rejected
    speed_limits = SAWYER_LIMITS.velocity * envelope.joint_speed_fraction
    now = 0.0
    for commands, stop in ticks:
        if stop is not None:
            controller.gate.operator_stopped = stop
        for command in commands:
            controller.gate.submit(*command, now)
            result.commands += 1
            result.bad_commands += int(_is_bad(command, envelope))
        step = controller.step(q, now)
        if step.hold is not Hold.NONE and np.any(step.qdot != 0):
            result.moved_while_held += 1
            result.violations.append(f"moved while held ({step.hold.value})")
        q = q + step.qdot * dt
        new_position = kinematics.forward(q)[0]
        excursion = float(np.max(np.maximum(envelope.box_low - new_position, new_position - envelope.box_high)))
        joint_excursion = float(np.max(np.maximum(SAWYER_LIMITS.lower - q, q - SAWYER_LIMITS.upper)))
        speed_ratio = float(np.max(np.abs(step.qdot) / speed_limits))
        hand_speed = float(np.linalg.norm(new_position - position) / dt)
        result.worst_box_excursion = max(result.worst_box_excursion, excursion)
        result.worst_joint_limit_excursion = max(result.worst_joint_limit_excursion, joint_excursion)
        result.worst_joint_speed_ratio = max(result.worst_joint_speed_ratio, speed_ratio)
        result.worst_hand_speed = max(result.worst_hand_speed, hand_speed)
        if excursion > BOX_TOLERANCE:
            result.violations.append(f"hand {excursion:.4f} m outside the box at {new_position.round(3).tolist()}")
        if joint_excursion > 0:
            result.violations.append(f"joint limit exceeded by {joint_excursion:.4f} rad")
        if speed_ratio > 1 + 1e-9:
            result.violations.append(f"joint speed {speed_ratio:.3f} x its limit")
        if hand_speed > envelope.max_linear_speed * SPEED_TOLERANCE:
            result.violations.append(f"hand speed {hand_speed:.3f} m/s over the limit")
        position, now = new_position, now + dt
        result.ticks += 1
    result.rejected_counted += controller.counters.rejected - rejected_before
    result.streams += 1


def run_campaign(streams: int, seed: int, mean_length: int = 40, envelope: EnvelopeConfig | None = None,
                 pool_size: int = 500) -> CampaignResult:  # fmt: skip
    """``streams`` streams of every kind in turn, each from a fresh controller and a random start."""
    envelope = envelope or EnvelopeConfig()
    rng = np.random.default_rng(seed)
    kinematics = SawyerKinematics()
    pool = start_pool(kinematics, envelope, pool_size, rng)
    result = CampaignResult()
    kinds = list(STREAMS.values())
    for index in range(streams):
        q = pool[rng.integers(len(pool))]
        controller = ArmController(kinematics, SAWYER_LIMITS, envelope, ControllerConfig())
        length = int(rng.integers(mean_length // 2, mean_length * 3 // 2 + 1))
        run_stream(controller, kinematics, q, kinds[index % len(kinds)](rng, length, envelope), result)
    return result
