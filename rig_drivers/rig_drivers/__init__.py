"""RIG on ROS 2 robot-side nodes: the camera node and the simulated Sawyer driver."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")  # before any module imports mujoco, which picks its GL backend at import
