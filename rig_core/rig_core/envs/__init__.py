"""Simulated Sawyer tasks (Gymnasium API, images only): Visual Reacher, Visual Pusher, Multi-Object Pusher."""

from __future__ import annotations

from rig_core.envs.sawyer import SawyerImageTask, TaskSpec
from rig_core.envs.tasks import TASKS

TASK_NAMES = tuple(TASKS)

__all__ = ["TASK_NAMES", "SawyerImageTask", "TaskSpec", "make_task"]


def make_task(name: str, image_size: int = 84, seed: int | None = None) -> SawyerImageTask:
    """A new task instance; raises ValueError naming the valid tasks for an unknown name."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of: {', '.join(TASK_NAMES)}")
    return SawyerImageTask(TASKS[name], image_size, seed)
