"""Test-time behaviour: hand the policy a goal *image*, run an episode, report true final distances.

The learner never sees the true state; evaluation reads it from the simulator only to score the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rig_core.agent import RIGAgent
from rig_core.envs import SawyerImageTask
from rig_core.goal_preparation import PreparedGoal, prepare_goal

PRIMARY_METRIC = {
    "visual-reacher": "final_hand_distance",
    "visual-pusher": "final_hand_and_puck_distance",
    "visual-multi-pusher": "final_total_distance",
}
"""The metric each task's paper figure plots (RIG_REFERENCE.md §3/§4)."""


@dataclass
class EpisodeResult:
    """The outcome of one goal-reaching episode."""

    final_distances: dict[str, float]
    final_latent_distance: float
    final_state: np.ndarray
    frames: list[np.ndarray] = field(default_factory=list)
    prepared_goal: PreparedGoal | None = None
    """The goal image as aligned to the first frame (None: not aligned)."""


def observe(agent: RIGAgent, env: SawyerImageTask, image: np.ndarray) -> np.ndarray:
    """What the policy sees: the encoder mean of the image (the true state for the Oracle, the image itself for
    HER on pixels)."""
    return env.state().astype(np.float32) if agent.config.oracle else agent.encode(image[None])[0]


def run_episode(
    agent: RIGAgent,
    env: SawyerImageTask,
    seed: int,
    goal_state: np.ndarray | None = None,
    goal_image: np.ndarray | None = None,
    record: bool = False,
    align: bool = False,
) -> EpisodeResult:
    """Reset, show the policy the goal (an image it encodes, or the true goal for the Oracle) and act greedily.

    `align`: a given goal image is first aligned to the first camera frame, as the policy node does with an
    operator's goal (`rig_core.goal_preparation`)."""
    options = None if goal_state is None else {"goal_state": goal_state}
    image, _ = env.reset(seed=seed, options=options)
    prepared = None
    if agent.config.oracle:
        goal = env.goal_state.astype(np.float32)
    else:
        if goal_image is None:
            goal_image = env.render_state(env.goal_state)
        elif align and (prepared := prepare_goal(agent, goal_image, image)) is not None:
            goal_image = prepared.image
        goal = agent.encode_goal(goal_image[None])[0]
    frames = [image] if record else []
    obs = observe(agent, env, image)
    info: dict = {}
    for _ in range(env.horizon):
        image, _, _, _, info = env.step(agent.act(obs, goal))
        obs = observe(agent, env, image)
        if record:
            frames.append(image)
    distances = {f"final_{name}": float(value) for name, value in env.distances(env.state(), env.goal_state).items()}
    latent_distance = float(np.linalg.norm(np.subtract(obs, goal, dtype=np.float64)))  # 0-255 pixels for HER on pixels
    return EpisodeResult(distances, latent_distance, env.state(), frames, prepared)


def evaluation_goals(env: SawyerImageTask, episodes: int, seed: int) -> list[tuple[int, np.ndarray]]:
    """The (reset seed, goal state) of each evaluation episode: the same goals for the same seed."""
    rng = np.random.default_rng(seed)
    return [(int(rng.integers(2**31)), env.sample_goal_state(rng)) for _ in range(episodes)]


def evaluate(agent: RIGAgent, env: SawyerImageTask, episodes: int, seed: int, with_floor: bool = False) -> dict[str, float]:
    """Mean final distances over `episodes` env-sampled goals (the same goals for the same seed).

    `with_floor` adds the goals' mean unreachable-goal floor (`hand_distance_floor`: what a perfect controller
    gets) and, when some goals are out of the hand's reach, the final hand distance on each kind of goal."""
    goals = evaluation_goals(env, episodes, seed)
    results = [run_episode(agent, env, reset_seed, goal) for reset_seed, goal in goals]
    metrics = {name: float(np.mean([r.final_distances[name] for r in results])) for name in results[0].final_distances}
    metrics["final_latent_distance"] = float(np.mean([r.final_latent_distance for r in results]))
    if with_floor:
        floors = np.array([env.hand_distance_floor(goal) for _, goal in goals])
        hand = np.array([r.final_distances["final_hand_distance"] for r in results])
        metrics["hand_distance_floor"] = float(floors.mean())
        if floors.any():
            metrics["out_of_reach_goals"] = int((floors > 0).sum())
            metrics["final_hand_distance_out_of_reach"] = float(hand[floors > 0].mean())
            if not floors.all():
                metrics["final_hand_distance_reachable"] = float(hand[floors == 0].mean())
    return metrics
