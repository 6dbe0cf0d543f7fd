"""Whole episodes from a stream of transitions of many robots, one open episode per robot (no middleware)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np


class TransitionError(ValueError):
    """A transition that cannot be taken (malformed, or not the next step of its episode)."""


@dataclass(frozen=True)
class StepRecord:
    """One validated transition: images at the model's size (uint8 RGB), float32 vectors."""

    robot_id: str
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
    episode_id: int
    obs_image: np.ndarray  # (T, S, S, 3) uint8
    action: np.ndarray  # (T, A) float32
    next_obs_image: np.ndarray  # (T, S, S, 3) uint8
    goal: np.ndarray  # (T, D) float32

    def __len__(self) -> int:
        return len(self.action)


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
            episode_id=self.episode_id,
            obs_image=np.stack([s.observation for s in steps]),
            action=np.stack([s.action for s in steps]).astype(np.float32),
            next_obs_image=np.stack([s.next_observation for s in steps]),
            goal=np.stack([s.goal for s in steps]).astype(np.float32),
        )


class EpisodeAssembler:
    """Transitions in, finished episodes out, keyed by (robot_id, episode_id).

    An episode must start at step 0 and continue 1, 2, ... until a transition with ``episode_end``. Joining a
    robot mid-episode (the trainer started late) skips the rest of that episode; a step out of order drops the
    episode (TransitionError); a new episode of a robot (another id, or step 0 again: a restarted policy) drops
    that robot's unfinished one.
    """

    def __init__(self) -> None:
        self._open: dict[str, _OpenEpisode] = {}
        self._skipping: dict[str, int] = {}  # robot -> episode whose remaining transitions are ignored

    def add(self, record: StepRecord) -> AddResult:
        """Take one transition; raises TransitionError for a step out of order."""
        robot, episode_id, step = record.robot_id, record.episode_id, record.step
        if self._skipping.get(robot) == episode_id and step != 0:
            return AddResult(accepted=False)
        self._skipping.pop(robot, None)
        note = None
        current = self._open.get(robot)
        if current is not None and (current.episode_id != episode_id or step == 0):
            note = (f"robot {robot}: episode {current.episode_id} was left after {len(current.steps)} steps "
                    f"without episode_end (a new episode began); its transitions are dropped")  # fmt: skip
            del self._open[robot]
            current = None
        if current is None:
            if step != 0:
                self._skipping[robot] = episode_id
                joined = f"robot {robot}: joined episode {episode_id} at step {step}; waiting for its next episode"
                return AddResult(accepted=False, note=f"{note}; {joined}" if note else joined)
            current = self._open[robot] = _OpenEpisode(episode_id)
        elif step != len(current.steps):
            del self._open[robot]
            self._skipping[robot] = episode_id
            raise TransitionError(f"robot {robot} episode {episode_id}: step {step} arrived where step "
                                  f"{len(current.steps)} was due; the episode's {len(current.steps)} transitions "
                                  "are dropped")  # fmt: skip
        current.steps.append(record)
        if record.episode_end:
            del self._open[robot]
            return AddResult(True, current.finish(), note)
        return AddResult(True, note=note)
