"""Whole episodes from a stream of transitions of many robots and policy runs, re-sent copies included (no middleware)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from rig_trainer_node.dedup import EpisodeKey

MAX_SKIPPING = 1000
"""How many skipped episodes are remembered (their later steps are then ignored without a note)."""


class TransitionError(ValueError):
    """A transition that cannot be taken (malformed, or not the next step of its episode)."""


@dataclass(frozen=True)
class StepRecord:
    """One validated transition: images at the model's size (uint8 RGB), float32 vectors."""

    robot_id: str
    session_id: str
    episode_id: int
    step: int
    observation: np.ndarray
    action: np.ndarray
    next_observation: np.ndarray
    goal: np.ndarray
    episode_end: bool


@dataclass(frozen=True)
class AssembledEpisode:
    """A finished episode of one robot, ready to become a rig_core Episode."""

    robot_id: str
    session_id: str
    episode_id: int
    obs_image: np.ndarray  # (T, S, S, 3) uint8
    action: np.ndarray  # (T, A) float32
    next_obs_image: np.ndarray  # (T, S, S, 3) uint8
    goal: np.ndarray  # (T, D) float32

    def __len__(self) -> int:
        return len(self.action)

    @property
    def key(self) -> EpisodeKey:
        return EpisodeKey(self.robot_id, self.session_id, self.episode_id)


class AddResult(NamedTuple):
    """What one transition did: taken or not, an episode it finished, and a note worth logging."""

    accepted: bool
    episode: AssembledEpisode | None = None
    note: str | None = None


@dataclass
class _OpenEpisode:
    episode_id: int
    steps: list[StepRecord] = field(default_factory=list)

    def finish(self) -> AssembledEpisode:
        steps = self.steps
        return AssembledEpisode(
            robot_id=steps[0].robot_id,
            session_id=steps[0].session_id,
            episode_id=self.episode_id,
            obs_image=np.stack([s.observation for s in steps]),
            action=np.stack([s.action for s in steps]).astype(np.float32),
            next_obs_image=np.stack([s.next_observation for s in steps]),
            goal=np.stack([s.goal for s in steps]).astype(np.float32),
        )


class EpisodeAssembler:
    """Transitions in, finished episodes out, keyed by (robot_id, session_id, episode_id).

    An episode must arrive as step 0, 1, 2, ... up to a transition with ``episode_end``. The policy sends each
    episode again, whole, until the trainer acknowledges it, so whatever cannot be completed here is dropped
    and taken again from its re-sent copy: a step 0 starts the episode afresh, joining an episode mid-way (the
    trainer started late, or restarted) skips it until its step 0 comes, a gap drops it (TransitionError), and a
    step already taken (a duplicate) is ignored. Several episodes of a robot may be open at once (a re-sent
    one beside the live one); beyond ``max_open_per_robot`` the one left longest is dropped.
    """

    def __init__(self, max_open_per_robot: int = 4) -> None:
        self.max_open_per_robot = max_open_per_robot
        self._open: dict[EpisodeKey, _OpenEpisode] = {}  # least recently extended first
        self._skipping: dict[EpisodeKey, None] = {}  # episodes waiting for their step 0, oldest first

    def add(self, record: StepRecord) -> AddResult:
        """Take one transition; raises TransitionError for a gap in an episode."""
        key, step = EpisodeKey(record.robot_id, record.session_id, record.episode_id), record.step
        current = self._open.pop(key, None)
        note = None
        if step == 0:
            self._skipping.pop(key, None)
            note = self._make_room(key.robot_id)
            current = _OpenEpisode(record.episode_id)
        elif current is None:
            if key in self._skipping:
                return AddResult(accepted=False)
            self._skip(key)
            return AddResult(False, note=f"{_name(key)}: joined at step {step}; waiting for it to be sent again whole")
        elif step < len(current.steps):  # a copy of a step already taken
            self._open[key] = current
            return AddResult(accepted=False)
        elif step > len(current.steps):
            self._skip(key)
            raise TransitionError(f"{_name(key)}: step {step} arrived where step {len(current.steps)} was due; its "
                                  f"{len(current.steps)} transitions are dropped until it is sent again")  # fmt: skip
        current.steps.append(record)
        if record.episode_end:
            return AddResult(True, current.finish(), note)
        self._open[key] = current
        return AddResult(True, note=note)

    def _make_room(self, robot: str) -> str | None:
        """Drop the robot's least recently extended open episode if it has max_open_per_robot of them."""
        mine = [key for key in self._open if key.robot_id == robot]
        if len(mine) < self.max_open_per_robot:
            return None
        left = self._open.pop(mine[0])
        return f"{_name(mine[0])}: left after {len(left.steps)} steps; dropped until it is sent again"

    def _skip(self, key: EpisodeKey) -> None:
        self._skipping[key] = None
        while len(self._skipping) > MAX_SKIPPING:
            del self._skipping[next(iter(self._skipping))]


def _name(key: EpisodeKey) -> str:
    return f"robot {key.robot_id} session {key.session_id} episode {key.episode_id}"
