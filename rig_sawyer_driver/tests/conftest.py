"""Real ROS 1 between real processes: each test that asks for `ros1_env` (or `ros1_peer`) gets a rosmaster of its own
on a free port, with ROS_MASTER_URI, ROS_HOME and ROS_LOG_DIR set for the processes it starts
(see rig_sawyer_driver.testing)."""

from __future__ import annotations

from rig_sawyer_driver.testing import ros1_env, ros1_peer

__all__ = ["ros1_env", "ros1_peer"]
