"""rig_core: RIG (Visual Reinforcement Learning with Imagined Goals) without any middleware.

The learning (beta-VAE, goal-conditioned TD3, relabelling replay), the simulated Sawyer tasks, the
weights/checkpoint format and the `rig` command. The ROS 2 nodes import this package unchanged.
"""

__version__ = "0.1.0"
