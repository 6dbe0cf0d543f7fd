"""Where a run's reward points on the Visual Reacher's goals: a VAE-only diagnosis per run.

For each goal of the final evaluation set, the goal image is encoded and the run's own relabelled reward (the
latent distance r = -||z - z_goal||, or the log-prob or pixel-MSE reward of the reward ablation) is computed
for a fine grid of reachable hand positions; the best grid point is the reward's own optimum. Its distance to
the goal, beside the goal's floor, tells how much of a run's final distance the reward decides before the
policy acts. Writes benchmarks/<--out>.{csv,md} (visual_reacher_latent_optimum: the latent-distance runs of
2026-11-24 to 11-30).

    python benchmarks/latent_optimum.py benchmarks/runs/visual-reacher/rig/seed0 benchmarks/runs/visual-reacher/rig/seed1
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from learning import FINAL_EVAL_EPISODES as GOALS  # the final evaluation's goals (this script's folder is on sys.path)
from learning import FINAL_EVAL_SEED as GOAL_SEED
from rig_core.config import RewardKind
from rig_core.evaluation import evaluation_goals
from rig_core.policy import load_trained
from rig_core.rewards import make_reward

HERE = Path(__file__).parent
GRID_POINTS = 41  # per axis over the hand box: 5 mm spacing
ENCODE_BATCH = 200


def latent_optimum(run: Path, kind: RewardKind | None) -> dict[str, float | str]:
    """Mean goal distance of the optimum of the run's reward (or of `kind`, on the run's VAE) over its out-of-reach
    and in-reach goals."""
    agent, env, _ = load_trained(run / "checkpoint", "cpu")
    config = agent.config if kind is None else replace(agent.config, replay=replace(agent.config.replay, reward=kind))
    reward = make_reward(config, agent.vae)
    low, high = env.spec_.hand_low, env.spec_.hand_high
    axes = [np.linspace(low[i], high[i], GRID_POINTS) for i in range(2)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 2)
    images = np.stack([env.render_state(point) for point in grid])
    latents = np.concatenate([agent.encode(images[start:start + ENCODE_BATCH]) for start in range(0, len(grid), ENCODE_BATCH)])
    errors: dict[bool, list[float]] = {True: [], False: []}  # keyed by "out of reach"
    floors = []
    for _, goal in evaluation_goals(env, GOALS, GOAL_SEED):
        goal_latent = agent.encode(env.render_state(goal)[None])[0]
        goals = np.tile(goal_latent, (len(latents), 1))
        optimum = grid[np.concatenate([reward(latents[start:start + ENCODE_BATCH], goals[start:start + ENCODE_BATCH],
                                              lambda start=start: images[start:start + ENCODE_BATCH])
                                       for start in range(0, len(grid), ENCODE_BATCH)]).argmax()]  # fmt: skip
        floor = env.hand_distance_floor(goal)
        errors[floor > 0].append(float(np.linalg.norm(optimum - goal[:2])))
        floors += [floor] if floor > 0 else []
    final = json.loads((run / "final_eval.json").read_text()) if (run / "final_eval.json").is_file() else {}
    own = config.replay.reward is agent.config.replay.reward  # the policy was trained on this reward
    return {
        "run": run.as_posix(),
        "reward": config.replay.reward.value,
        "out_of_reach_goals": len(floors),
        "out_of_reach_floor": float(np.mean(floors)),
        "out_of_reach_reward_optimum": float(np.mean(errors[True])),
        "out_of_reach_policy": final.get("final_hand_distance_out_of_reach", float("nan")) if own else float("nan"),
        "in_reach_reward_optimum": float(np.mean(errors[False])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="finished visual-reacher run directories")
    parser.add_argument("--rewards", type=RewardKind, nargs="+", choices=list(RewardKind), metavar="REWARD",
                        help="score with each of these rewards (latent, log-prob, pixel-mse) on each run's VAE "
                        "(default: the run's own)")  # fmt: skip
    parser.add_argument("--out", default="visual_reacher_reward_optimum", help="file stem in benchmarks/")
    args = parser.parse_args()
    rows = [latent_optimum(run, kind) for run in args.runs for kind in args.rewards or [None]]
    with (HERE / f"{args.out}.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = ["| run | reward | out-of-reach goals | their floor | reward's optimum | policy's final distance | "
             "in-reach goals: reward's optimum |", "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for row in rows:
        lines.append(f"| {row['run']} | {row['reward']} | {row['out_of_reach_goals']} | {row['out_of_reach_floor']:.3f} | "
                     f"{row['out_of_reach_reward_optimum']:.3f} | {row['out_of_reach_policy']:.3f} | "
                     f"{row['in_reach_reward_optimum']:.4f} |")  # fmt: skip
    command = "python benchmarks/latent_optimum.py " + " ".join(sys.argv[1:])
    header = ["# visual-reacher: where each run's reward points", "",
              f"Command: `{command}`", f"Machine: {platform.machine()}, {os.cpu_count()} cores, no GPU.", "",
              f"Distances in metres, means over the out-of-reach goals of the final evaluation set ({GOALS} goals, "
              f"seed {GOAL_SEED}); the optimum is searched over a {GRID_POINTS}x{GRID_POINTS} grid of the hand box.", ""]
    (HERE / f"{args.out}.md").write_text("\n".join(header + lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
