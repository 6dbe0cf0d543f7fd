"""An operator's goal image made ready for the policy: aligned to the live camera, and judged for familiarity.

Alignment (`rig_core.goal_alignment`) undoes other lights and a nudged camera. Familiarity: the VAE reconstructs
well only images like those it was trained on, so a goal whose reconstruction error is far above the training
images' (`rig_core.scene_statistics`) is one the policy will likely miss; the operator is told before the arm moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rig_core.agent import RIGAgent
from rig_core.goal_alignment import GoalAlignment, align_goal

UNFAMILIAR_RATIO = 1.5
"""A goal is unfamiliar when its reconstruction error is over this many times the 99th percentile of the training
images' (measured: benchmarks/goal_robustness.md)."""


@dataclass(frozen=True)
class PreparedGoal:
    """The goal image as the model sees it, what alignment did, and how familiar it looks to the VAE."""

    image: np.ndarray
    alignment: GoalAlignment
    reconstruction_error: float
    typical_error: float
    """The training images' 99th-percentile reconstruction error."""

    @property
    def familiar(self) -> bool:
        """Whether the goal's reconstruction error is within UNFAMILIAR_RATIO of the training images'."""
        return is_familiar(self.reconstruction_error, self.typical_error)

    def warning(self) -> str:
        """One line for the operator when the goal looks unlike what the VAE was trained on, else ''."""
        if self.familiar:
            return ""
        return (f"goal image looks unlike the VAE's training images (reconstruction error {self.reconstruction_error:.0f}"
                f", training images up to {self.typical_error:.0f}): the arm will likely miss it; take the goal image "
                "with the robot's camera under the lighting it practised in")  # fmt: skip


def is_familiar(reconstruction_error: float, typical_error: float) -> bool:
    """The familiarity rule: a reconstruction error within UNFAMILIAR_RATIO of the training images' `typical_error`."""
    return reconstruction_error <= UNFAMILIAR_RATIO * typical_error


def prepare_goal(agent: RIGAgent, goal: np.ndarray, live: np.ndarray) -> PreparedGoal | None:
    """Align `goal` (model-size uint8 RGB) to the `live` camera frame over the agent's static pixels, and measure
    its reconstruction error; None for weights without scene statistics (from before them: which pixels are the
    static scene is then unknown, and the goal is used as given)."""
    if agent.scene is None:
        return None
    image, alignment = align_goal(goal, live, agent.scene.static)
    error = float(agent.reconstruction_errors(image[None])[0])
    return PreparedGoal(image, alignment, error, agent.scene.typical_error)
