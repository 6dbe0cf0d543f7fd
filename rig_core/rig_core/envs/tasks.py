"""The three tasks of the paper with the authors' geometry and timing (RIG_REFERENCE.md §3).

Coordinates are metaworld's: x across the table, y away from the robot base, metres. The cameras are
the authors' `sawyer_init_camera` (reacher) and `sawyer_init_camera_zoomed_in` (pushers).
"""

from __future__ import annotations

from rig_core.envs.sawyer import TaskSpec
from rig_core.envs.scene import PLAIN_TABLE_RGBA, CameraSpec

REACHER_CAMERA = CameraSpec(lookat=(0.0, 1.0, 0.5), distance=0.3, elevation=-45.0, azimuth=270.0)
PUSHER_CAMERA = CameraSpec(lookat=(0.0, 0.85, 0.2), distance=0.3, elevation=-45.0, azimuth=270.0)

VISUAL_REACHER = TaskSpec(
    name="visual-reacher",
    horizon=50,
    action_scale=0.01,  # 1 cm per step
    frame_skip=30,
    hand_z=0.06,  # fingertips just above the table (the authors' z was fixed too)
    hand_low=(-0.1, 0.5),
    hand_high=(0.1, 0.7),
    hand_reset=(0.0, 0.6),
    reset_random_steps=20,
    puck_starts=(),
    # Twice the reachable x range, as the authors had it: a non-zero distance floor is expected.
    hand_goal_low=(-0.2, 0.5),
    hand_goal_high=(0.2, 0.7),
    puck_goal_lows=(),
    puck_goal_highs=(),
    min_goal_separation=0.0,
    camera=REACHER_CAMERA,
)

VISUAL_PUSHER = TaskSpec(
    name="visual-pusher",
    horizon=100,
    action_scale=0.02,  # 2 cm per step
    frame_skip=50,
    hand_z=0.06,
    hand_low=(-0.1, 0.5),
    hand_high=(0.1, 0.7),
    hand_reset=(0.0, 0.4),  # the authors' value; the box clip brings the hand to y = 0.5 on the first step
    reset_random_steps=0,
    puck_starts=((0.0, 0.6),),
    hand_goal_low=(-0.05, 0.55),
    hand_goal_high=(0.05, 0.65),
    puck_goal_lows=((-0.2, 0.5),),
    puck_goal_highs=((0.2, 0.7),),
    min_goal_separation=0.0,
    camera=PUSHER_CAMERA,
    table_rgba=PLAIN_TABLE_RGBA,
)

VISUAL_MULTI_PUSHER = TaskSpec(
    name="visual-multi-pusher",
    horizon=100,
    action_scale=0.02,
    frame_skip=50,
    hand_z=0.06,
    hand_low=(-0.1, 0.5),
    hand_high=(0.1, 0.7),
    hand_reset=(0.0, 0.4),
    reset_random_steps=0,
    puck_starts=((0.05, 0.6), (-0.05, 0.6)),
    hand_goal_low=(-0.05, 0.55),
    hand_goal_high=(0.05, 0.65),
    puck_goal_lows=((0.0, 0.5), (-0.2, 0.5)),
    puck_goal_highs=((0.2, 0.7), (0.0, 0.7)),
    min_goal_separation=0.08,
    camera=PUSHER_CAMERA,
    table_rgba=PLAIN_TABLE_RGBA,
)

TASKS = {spec.name: spec for spec in (VISUAL_REACHER, VISUAL_PUSHER, VISUAL_MULTI_PUSHER)}
