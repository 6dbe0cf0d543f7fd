"""Learning-quality benchmark: RIG, the Oracle and the relabelling ablation, side by side, several seeds.

Runs `rig train` once per (variant, seed) into benchmarks/runs/<task>/<variant>/seed<k> (continuing
unfinished runs with --resume), then writes benchmarks/<task>_learning.{csv,md,png}; the plot shows the
paper's axis window and its approximate RIG level.

    python benchmarks/learning.py --task visual-reacher --seeds 0 1 2 --variants rig oracle
    python benchmarks/learning.py --task visual-reacher --seeds 0 --variants none future prior
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from rig_core.evaluation import PRIMARY_METRIC

HERE = Path(__file__).parent
VARIANTS = {
    "rig": [],
    "oracle": ["--oracle"],
    "none": ["--relabel", "none"],
    "future": ["--relabel", "future"],
    "prior": ["--relabel", "prior"],
    # The paper-era main results: a VAE pretrained once and kept fixed (online VAE training was an ablation).
    "rig-fixed-vae": ["--set", "vae.online_every=0"],
}
# The paper's figure windows and approximate RIG levels (RIG_REFERENCE.md §4; the levels are unverified readings).
PAPER = {
    "visual-reacher": {"x": (0, 10_000), "y": (0.0, 0.25), "rig": 0.05},
    "visual-pusher": {"x": (0, 500_000), "y": (0.10, 0.28), "rig": 0.15},
    "visual-multi-pusher": {"x": (0, 500_000), "y": (0.15, 0.40), "rig": 0.2},
}


def run_one(task: str, variant: str, seed: int, env_steps: int, overrides: list[str], threads: int) -> Path:
    """Train (or finish training) one run; returns its directory."""
    out = HERE / "runs" / task / variant / f"seed{seed}"
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    rig = [str(Path(sys.executable).parent / "rig"), "train", "--no-progress"]  # the installed console script
    if (out / "checkpoint" / "state.json").is_file():
        command = rig + ["--resume", str(out), "--env-steps", str(env_steps)]
    else:
        sets = [arg for item in overrides for arg in ("--set", item)]
        command = rig + [
            "--task",
            task,
            "--seed",
            str(seed),
            "--env-steps",
            str(env_steps),
            "--out",
            str(out),
            *VARIANTS[variant],
            *sets,
        ]
    log = out.parent / f"seed{seed}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as handle:
        subprocess.run(command, env=env, stdout=handle, stderr=subprocess.STDOUT, check=True)
    return out


def collect(task: str, runs: dict[tuple[str, int], Path]) -> list[dict[str, float | str]]:
    """Every evaluation row of every run, tagged with variant and seed."""
    rows: list[dict[str, float | str]] = []
    for (variant, seed), out in sorted(runs.items()):
        with (out / "metrics.csv").open() as handle:
            for row in csv.DictReader(handle):
                rows.append({"variant": variant, "seed": seed, **{k: float(v) if v else float("nan") for k, v in row.items()}})
    return rows


def plot(task: str, rows: list[dict], metric: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for variant in dict.fromkeys(row["variant"] for row in rows):
        steps = sorted({row["env_steps"] for row in rows if row["variant"] == variant})
        values = [[row[metric] for row in rows if row["variant"] == variant and row["env_steps"] == s] for s in steps]
        mean, std = np.array([np.mean(v) for v in values]), np.array([np.std(v) for v in values])
        seeds = len({row["seed"] for row in rows if row["variant"] == variant})
        axis.plot(steps, mean, marker="o", label=f"{variant} ({seeds} seed{'s' if seeds > 1 else ''})")
        axis.fill_between(steps, mean - std, mean + std, alpha=0.2)
    paper = PAPER[task]
    axis.axhline(paper["rig"], color="grey", linestyle="--", label=f"paper RIG ≈ {paper['rig']} (unverified reading)")
    axis.set_xlim(*paper["x"])
    axis.set_ylim(*paper["y"])
    axis.set_xlabel("env steps")
    axis.set_ylabel(f"{metric} (m)")
    axis.set_title(f"{task}: mean ± std over seeds, paper's axis window")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def summary(task: str, rows: list[dict], metric: str, command: str) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, no GPU"
    lines = [f"# {task}: learning quality", "", f"Command: `{command}`", f"Machine: {machine}.", "",
             f"Final-step {metric} (m), evaluated on env-sampled goal images (greedy policy):", "",
             "| variant | seeds | env steps | mean | std | per seed | wall time (min, mean) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for variant in dict.fromkeys(row["variant"] for row in rows):
        mine = [row for row in rows if row["variant"] == variant]
        last = max(row["env_steps"] for row in mine)
        finals = [row for row in mine if row["env_steps"] == last]
        values = [row[metric] for row in finals]
        per_seed = ", ".join(f"{row[metric]:.3f}" for row in finals)
        minutes = np.mean([row["wall_time_s"] for row in finals]) / 60
        stats = f"{np.mean(values):.3f} | {np.std(values):.3f}"
        lines.append(f"| {variant} | {len(finals)} | {int(last)} | {stats} | {per_seed} | {minutes:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="visual-reacher", choices=list(PAPER))
    parser.add_argument("--env-steps", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=["rig", "oracle"], choices=list(VARIANTS))
    parser.add_argument("--set", action="append", default=[], help="config override passed to every new run")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (torch threads are split between them)")
    args = parser.parse_args()
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    todo = [(variant, seed) for variant in args.variants for seed in args.seeds]
    with ThreadPoolExecutor(args.jobs) as pool:
        outs = list(pool.map(lambda vs: run_one(args.task, vs[0], vs[1], args.env_steps, args.set, threads), todo))
    runs = {key: out for key, out in zip(todo, outs)}
    for out in (HERE / "runs" / args.task).glob("*/seed*"):  # include earlier runs of other variants/seeds
        if (out / "metrics.csv").is_file():
            runs.setdefault((out.parent.name, int(out.name[4:])), out)
    rows = collect(args.task, runs)
    stem = HERE / args.task.replace("-", "_")
    with open(f"{stem}_learning.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(dict.fromkeys(k for row in rows for k in row)))
        writer.writeheader()
        writer.writerows(rows)
    metric = PRIMARY_METRIC[args.task]
    plot(args.task, rows, metric, Path(f"{stem}_learning.png"))
    command = "python benchmarks/learning.py " + " ".join(sys.argv[1:])
    Path(f"{stem}_learning.md").write_text(summary(args.task, rows, metric, command))
    print(Path(f"{stem}_learning.md").read_text())


if __name__ == "__main__":
    main()
