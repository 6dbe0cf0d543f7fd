"""Where the latent reward points on the Visual Reacher's out-of-reach goals: a VAE-only diagnosis per run.

For each out-of-reach goal of the final evaluation set, the goal image is encoded and compared with the
encodings of a fine grid of reachable hand positions; the grid point nearest in latent space is the reward's
own optimum (r = -||z - z_goal||). Its distance to the goal, beside the goal's floor, tells how much of a run's
final distance the VAE decides before the policy acts. Writes benchmarks/visual_reacher_latent_optimum.{csv,md}.

    python benchmarks/latent_optimum.py benchmarks/runs/visual-reacher/rig/seed0 benchmarks/runs/visual-reacher/rig/seed1
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

from learning import FINAL_EVAL_EPISODES as GOALS  # the final evaluation's goals (this script's folder is on sys.path)
from learning import FINAL_EVAL_SEED as GOAL_SEED
from rig_core.evaluation import evaluation_goals
from rig_core.policy import load_trained

HERE = Path(__file__).parent
GRID_POINTS = 41  # per axis over the hand box: 5 mm spacing
ENCODE_BATCH = 200


def latent_optimum(run: Path) -> dict[str, float | str]:
    """Mean goal distance of the latent reward's optimum over the run's out-of-reach and in-reach goals."""
    agent, env, _ = load_trained(run / "checkpoint", "cpu")
    low, high = env.spec_.hand_low, env.spec_.hand_high
    axes = [np.linspace(low[i], high[i], GRID_POINTS) for i in range(2)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 2)
    latents = np.concatenate([agent.encode(np.stack([env.render_state(point) for point in grid[start:start + ENCODE_BATCH]]))
                              for start in range(0, len(grid), ENCODE_BATCH)])  # fmt: skip
    errors: dict[bool, list[float]] = {True: [], False: []}  # keyed by "out of reach"
    floors = []
    for _, goal in evaluation_goals(env, GOALS, GOAL_SEED):
        goal_latent = agent.encode(env.render_state(goal)[None])[0]
        optimum = grid[np.linalg.norm(latents - goal_latent, axis=1).argmin()]
        floor = env.hand_distance_floor(goal)
        errors[floor > 0].append(float(np.linalg.norm(optimum - goal[:2])))
        floors += [floor] if floor > 0 else []
    final = json.loads((run / "final_eval.json").read_text()) if (run / "final_eval.json").is_file() else {}
    return {
        "run": run.as_posix(),
        "out_of_reach_goals": len(floors),
        "out_of_reach_floor": float(np.mean(floors)),
        "out_of_reach_latent_optimum": float(np.mean(errors[True])),
        "out_of_reach_policy": final.get("final_hand_distance_out_of_reach", float("nan")),
        "in_reach_latent_optimum": float(np.mean(errors[False])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="finished visual-reacher run directories")
    args = parser.parse_args()
    rows = [latent_optimum(run) for run in args.runs]
    with (HERE / "visual_reacher_latent_optimum.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = ["| run | out-of-reach goals | their floor | latent reward's optimum | policy's final distance | "
             "in-reach goals: latent optimum |", "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for row in rows:
        lines.append(f"| {row['run']} | {row['out_of_reach_goals']} | {row['out_of_reach_floor']:.3f} | "
                     f"{row['out_of_reach_latent_optimum']:.3f} | {row['out_of_reach_policy']:.3f} | "
                     f"{row['in_reach_latent_optimum']:.4f} |")  # fmt: skip
    command = "python benchmarks/latent_optimum.py " + " ".join(sys.argv[1:])
    header = ["# visual-reacher: where the latent reward points on out-of-reach goals", "",
              f"Command: `{command}`", f"Machine: {platform.machine()}, {os.cpu_count()} cores, no GPU.", "",
              f"Distances in metres, means over the out-of-reach goals of the final evaluation set ({GOALS} goals, "
              f"seed {GOAL_SEED}); the optimum is searched over a {GRID_POINTS}x{GRID_POINTS} grid of the hand box.", ""]
    (HERE / "visual_reacher_latent_optimum.md").write_text("\n".join(header + lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
