"""How far does a policy end from goals handed as realistic goal images (other lights, a nudged camera, JPEG, ...)?

    python benchmarks/goal_robustness.py [--weights launch/test/data/reacher_policy.safetensors] [--goals 100]

For each evaluation goal (the same goals as `rig eval --seed`), the goal's clean render is perturbed as
benchmarks/goal_perturbations.py lists, centre-cropped and resized as the policy node does, and the policy runs one
episode towards it (real MuJoCo), with the goal image as given ("raw", the paper's RIG) and aligned to the first
camera frame (rig_core.goal_alignment, the policy node's default). Scores: the true final hand distance on in-reach
goals (mean, median, share within 5 cm) and, on goals outside the hand's reach, the distance beyond the nearest
reachable point. Writes benchmarks/goal_robustness.csv and .md.
"""

from __future__ import annotations

import argparse
import csv
import platform
import time
from pathlib import Path

import numpy as np

from goal_perturbations import PERTURBATIONS
from rig_core.agent import RIGAgent
from rig_core.envs import make_task
from rig_core.evaluation import evaluation_goals, run_episode
from rig_core.goal_preparation import UNFAMILIAR_RATIO, PreparedGoal, is_familiar
from rig_core.images import to_model_input
from rig_core.weights import policy_agent, read_weights_file

HERE = Path(__file__).parent
DEFAULT_WEIGHTS = HERE.parent / "launch" / "test" / "data" / "reacher_policy.safetensors"
LARGE_RENDER = 336
"""Side of the larger render for the 'goal at another resolution' row (4x the model's images)."""


def evaluate_rows(weights: Path, goals: int, seed: int, rows: list[str]) -> list[dict]:
    """One row per (perturbation, goal handling): the in-reach and out-of-reach scores."""
    bundle = read_weights_file(weights)
    agent = policy_agent(bundle)
    env, large_env = make_task(bundle.task, bundle.image_size, seed), make_task(bundle.task, LARGE_RENDER, seed)
    episodes = evaluation_goals(env, goals, seed)
    floors = np.array([env.hand_distance_floor(goal) for _, goal in episodes])
    clean = [env.render_state(goal) for _, goal in episodes]
    large = [large_env.render_state(goal) for _, goal in episodes]
    results = []
    for name in rows:
        for align in (False, True):
            started = time.perf_counter()
            hand, unfamiliar = [], []
            for index, (reset_seed, goal_state) in enumerate(episodes):
                rng = np.random.default_rng([seed, index, rows.index(name)])  # the same perturbation either way
                image = to_model_input(PERTURBATIONS[name](clean[index], large[index], rng), bundle.image_size)
                result = run_episode(agent, env, reset_seed, goal_state, goal_image=image, align=align)
                unfamiliar.append(not _familiar(agent, image, result.prepared_goal))
                hand.append(result.final_distances["final_hand_distance"])
            row = _scores(name, align, np.array(hand), floors, time.perf_counter() - started)
            flagged = np.array(unfamiliar)
            results.append(row | {"flagged_in_reach": round(float(flagged[floors == 0].mean()), 3),
                                  "flagged_out_of_reach": round(float(flagged[floors > 0].mean()), 3)})  # fmt: skip
            print(results[-1], flush=True)
    env.close()
    large_env.close()
    return results


def _familiar(agent: RIGAgent, image: np.ndarray, prepared: PreparedGoal | None) -> bool:
    """Whether the policy node would take this goal without a warning: as prepared (aligned), else judged as given."""
    if prepared is not None:
        return prepared.familiar
    assert agent.scene is not None, "weights without scene statistics (from before them): retrain them"
    return is_familiar(float(agent.reconstruction_errors(image[None])[0]), agent.scene.typical_error)


def _scores(name: str, align: bool, hand: np.ndarray, floors: np.ndarray, seconds: float) -> dict:
    reach, beyond = hand[floors == 0], (hand - floors)[floors > 0]
    return {
        "goal_image": name,
        "goal_handling": "aligned" if align else "raw",
        "in_reach_goals": len(reach),
        "mean_m": round(float(reach.mean()), 4),
        "median_m": round(float(np.median(reach)), 4),
        "within_5cm": round(float((reach < 0.05).mean()), 3),
        "out_of_reach_goals": len(beyond),
        "out_of_reach_beyond_floor_m": round(float(beyond.mean()), 4) if len(beyond) else "",
        "wall_s": round(seconds, 1),
    }


def write_report(results: list[dict], weights: Path, goals: int, seed: int, out: Path) -> None:
    """The CSV and a Markdown table, each perturbation's raw and aligned rows side by side."""
    with out.with_suffix(".csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)
    clean = {row["goal_handling"]: row["mean_m"] for row in results if row["goal_image"] == "clean"}
    lines = [
        "# Goal images as the real world makes them: Visual Reacher",
        "",
        f"`python benchmarks/goal_robustness.py --weights {weights.name} --goals {goals} --seed {seed}` on "
        f"{platform.machine()}, {platform.python_version()}; the same {goals} goals (`rig eval --seed {seed}`) in "
        "every row. In-reach goals: final hand distance; out-of-reach goals: distance beyond the nearest reachable "
        "point. 'raw': the goal image as given (the paper's RIG); 'aligned': warped and recoloured to the first "
        "camera frame (rig_core/goal_alignment.py, the policy node's default). Ratio: mean over the clean mean. "
        "Flagged unfamiliar: goals the policy node warns about (reconstruction error over "
        f"{UNFAMILIAR_RATIO}x the training images' 99th percentile).",
        "",
        "| goal image | handling | mean (m) | median (m) | within 5 cm | ratio to clean | flagged | out of reach: beyond "
        "floor (m) | out of reach: flagged |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results:
        ratio = row["mean_m"] / clean[row["goal_handling"]]
        lines.append(f"| {row['goal_image']} | {row['goal_handling']} | {row['mean_m']:.4f} | {row['median_m']:.4f} | "
                     f"{row['within_5cm']:.0%} | {ratio:.2f} | {row['flagged_in_reach']:.0%} | "
                     f"{row['out_of_reach_beyond_floor_m']} | {row['flagged_out_of_reach']:.0%} |")  # fmt: skip
    lines += ["", f"![in-reach goals: mean final hand distance]({out.with_suffix('.png').name})"]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    plot(results, out.with_suffix(".png"))


def plot(results: list[dict], path: Path) -> None:
    """Bars: each perturbation's in-reach mean, as given and aligned, against 1.5x the clean figure."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    names = list(dict.fromkeys(row["goal_image"] for row in results))
    means = {(row["goal_image"], row["goal_handling"]): row["mean_m"] for row in results}
    positions = np.arange(len(names))
    figure, axes = plt.subplots(figsize=(11, 4.5))
    for offset, handling in ((-0.2, "raw"), (0.2, "aligned")):
        axes.bar(positions + offset, [means[name, handling] for name in names], 0.4,
                 label="as given (paper's RIG)" if handling == "raw" else "aligned to the camera (default)")  # fmt: skip
    axes.axhline(1.5 * means["clean", "aligned"], color="grey", linestyle="--", label="1.5x clean")
    axes.set_xticks(positions, names, rotation=35, ha="right", fontsize=8)
    axes.set_ylabel("final hand distance, in-reach goals (m)")
    axes.set_title("Visual Reacher: goal images as the real world makes them")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS, help="a `rig export` weights file")
    parser.add_argument("--goals", type=int, default=100, help="evaluation goals per row (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=424242, help="seed of the goals (default: %(default)s)")
    parser.add_argument("--rows", nargs="+", default=list(PERTURBATIONS), choices=list(PERTURBATIONS), metavar="ROW")
    parser.add_argument("--out", type=Path, default=HERE / "goal_robustness", help="output path without suffix")
    parser.add_argument("--from-csv", type=Path, nargs="+", help="only write the report, from these runs' CSVs")
    args = parser.parse_args()
    if args.from_csv:
        results = [row for path in args.from_csv for row in csv.DictReader(path.open())]
        results = [{name: _number(value) for name, value in row.items()} for row in results]
        results.sort(key=lambda row: (list(PERTURBATIONS).index(row["goal_image"]), row["goal_handling"] == "aligned"))
    else:
        results = evaluate_rows(args.weights, args.goals, args.seed, args.rows)
    write_report(results, args.weights, args.goals, args.seed, args.out)


def _number(value: str) -> str | int | float:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


if __name__ == "__main__":
    main()
