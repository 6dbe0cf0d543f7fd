"""Why a reacher policy misses goals out of the hand's reach: the policy, its reward's optimum, and the latents.

For each trained run, on the out-of-reach goals of the final evaluation set (learning.py's 300 goals), it
reports the mean of: the hand's unreachable-goal floor, the policy's final hand distance, the final hand
distance of the reward's optimum (the reachable hand position, on a 21x21 grid over the hand's box, whose
image encodes nearest the goal image's latent), and how far the goal latents sit from the prior's mean in the
latent dimensions the VAE left unused (fitted std < 0.1), against the same for goals in reach. Writes
benchmarks/visual_reacher_out_of_reach.{md,csv,png}.

    python benchmarks/out_of_reach.py benchmarks/runs/visual-reacher/rig/seed1 ... --goals 60
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
from pathlib import Path

import numpy as np

from learning import FINAL_EVAL_EPISODES, FINAL_EVAL_SEED
from rig_core.evaluation import evaluation_goals, run_episode
from rig_core.policy import load_trained

HERE = Path(__file__).parent
GRID = 21
UNUSED_STD = 0.1


def analyse(run: Path, goals: int) -> tuple[dict[str, float | str], list[tuple[float, float]]]:
    """The run's summary row and, per out-of-reach goal, (floor, policy's final hand distance)."""
    agent, env, _ = load_trained(run / "checkpoint", "cpu")
    low, high = np.array(env.spec_.hand_low), np.array(env.spec_.hand_high)
    grid = np.stack(np.meshgrid(*(np.linspace(low[i], high[i], GRID) for i in range(2))), -1).reshape(-1, 2)
    grid_latents = agent.encode(np.stack([env.render_state(point) for point in grid]))
    unused = agent.prior.std < UNUSED_STD
    per_goal, optimum, offsets = [], [], {True: [], False: []}
    for reset_seed, goal in evaluation_goals(env, FINAL_EVAL_EPISODES, FINAL_EVAL_SEED):
        latent = agent.encode(env.render_state(goal)[None])[0]
        floor = env.hand_distance_floor(goal)
        offsets[floor > 0].append(np.abs(latent - agent.prior.mean)[unused].max(initial=0.0))
        if floor == 0 or len(per_goal) == goals:
            continue
        result = run_episode(agent, env, reset_seed, goal)
        per_goal.append((floor, result.final_distances["final_hand_distance"]))
        nearest = grid[np.linalg.norm(grid_latents - latent, axis=1).argmin()]
        optimum.append(float(np.linalg.norm(nearest - goal[:2])))
    env.close()
    floors, finals = np.array(per_goal).T
    row = {
        "run": str(run.relative_to(HERE / "runs") if run.is_relative_to(HERE / "runs") else run),
        "out_of_reach_goals": len(per_goal),
        "floor": floors.mean(),
        "policy": finals.mean(),
        "reward_optimum": float(np.mean(optimum)),
        "policy_off_by_over_0.15": float(np.mean(finals - floors > 0.15)),
        "unused_dims": int(unused.sum()),
        "unused_offset_in_reach": float(np.median(offsets[False])),
        "unused_offset_out_of_reach": float(np.median(offsets[True])),
    }
    return row, per_goal


def plot(results: dict[str, list[tuple[float, float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4.5))
    for name, per_goal in results.items():
        floors, finals = np.array(per_goal).T
        axis.scatter(floors, finals, s=12, alpha=0.6, label=name)
    axis.plot([0, 0.1], [0, 0.1], color="grey", linestyle="--", label="the floor (a perfect controller)")
    axis.set_xlabel("goal's unreachable-goal floor (m)")
    axis.set_ylabel("policy's final hand distance (m)")
    axis.set_title("visual-reacher: goals out of the hand's reach")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="trained visual-reacher run directories")
    parser.add_argument("--goals", type=int, default=60, help="out-of-reach goals per run")
    args = parser.parse_args()
    rows, results = [], {}
    for run in args.runs:
        row, per_goal = analyse(run.resolve(), args.goals)
        rows.append(row)
        results[str(row["run"])] = per_goal
    stem = HERE / "visual_reacher_out_of_reach"
    with open(f"{stem}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(results, Path(f"{stem}.png"))
    lines = ["# visual-reacher: goals out of the hand's reach", "",
             f"Command: `python benchmarks/out_of_reach.py {' '.join(sys.argv[1:])}`",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, no GPU.", "",
             f"Means over the first {args.goals} out-of-reach goals of the {FINAL_EVAL_EPISODES}-goal final evaluation set "
             f"(seed {FINAL_EVAL_SEED}), final hand distances in m. Reward optimum: the reachable hand position "
             f"(a {GRID}x{GRID} grid over the hand's box) whose image encodes nearest the goal image's latent. Unused "
             f"dims: latent dimensions whose fitted prior std is below {UNUSED_STD}; offset: the median over goals of "
             "the largest |latent - prior mean| among them.", "",
             "| run | floor | policy | reward optimum | share > 0.15 m past the floor | unused dims | "
             "offset, goals in reach | offset, out of reach |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for row in rows:
        lines.append(f"| {row['run']} | {row['floor']:.3f} | {row['policy']:.3f} | {row['reward_optimum']:.3f} | "
                     f"{row['policy_off_by_over_0.15']:.2f} | {row['unused_dims']} | {row['unused_offset_in_reach']:.3f} | "
                     f"{row['unused_offset_out_of_reach']:.3f} |")  # fmt: skip
    Path(f"{stem}.md").write_text("\n".join(lines) + "\n")
    print(Path(f"{stem}.md").read_text())


if __name__ == "__main__":
    main()
