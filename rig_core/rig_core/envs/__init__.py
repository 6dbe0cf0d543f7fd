"""Simulated Sawyer tasks (Gymnasium API, images only): Visual Reacher, Visual Pusher, Multi-Object Pusher."""

from __future__ import annotations

import os

# Headless rendering (EGL); must be set before mujoco is first imported, which the modules below do.
os.environ.setdefault("MUJOCO_GL", "egl")

from rig_core.envs.sawyer import SawyerImageTask, TaskSpec  # noqa: E402
from rig_core.envs.tasks import TASKS  # noqa: E402

TASK_NAMES = tuple(TASKS)

__all__ = ["TASK_NAMES", "SawyerImageTask", "TaskSpec", "make_task"]


def make_task(name: str, image_size: int = 84, seed: int | None = None) -> SawyerImageTask:
    """A new task instance; raises ValueError naming the valid tasks for an unknown name."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of: {', '.join(TASK_NAMES)}")
    return SawyerImageTask(TASKS[name], image_size, seed)
