"""rig_core: RIG (Visual Reinforcement Learning with Imagined Goals) without any middleware.

The learning (beta-VAE, goal-conditioned TD3, relabelling replay), the simulated Sawyer tasks, the
weights/checkpoint format and the `rig` command. The ROS 2 nodes import this package unchanged.
"""

import os

# Headless rendering for the simulated tasks; it must be set before mujoco is first imported.
os.environ.setdefault("MUJOCO_GL", "egl")

__version__ = "0.1.0"
