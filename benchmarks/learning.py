"""Learning-quality benchmark: RIG, the Oracle and the relabelling ablation, side by side, several seeds.

Runs `rig train` once per (variant, seed) into benchmarks/runs/<task>/<variant>/seed<k> (continuing
unfinished runs with --resume; not committed), copies each run's record (metrics.csv and its final evaluations)
to benchmarks/records/<task>/<variant>/seed<k> (committed), then writes benchmarks/<task>_learning.{csv,md,png}
from every record of the task; the plot shows the paper's axis window and its approximate RIG level. The md
ends with benchmarks/<task>_learning_notes.md, the hand-written account of the results, where there is one.

    python benchmarks/learning.py --task visual-reacher --seeds 0 1 2 --variants rig oracle
    python benchmarks/learning.py --task visual-reacher --seeds 0 --variants none future prior
    python benchmarks/learning.py --task visual-reacher --seeds 0 1 2 --variants her-pixels dsae lr
    python benchmarks/learning.py --task visual-reacher --seeds 0 1 2 --variants rig reward-log-prob reward-pixel-mse

`{seed}` in a --set value is replaced by the run's seed (e.g. to reuse each seed's pretrained VAE). After
training, every run is evaluated once more on FINAL_EVAL_EPISODES fresh goals (`rig eval`), the precise
number the summary reports beside the learning curve's last point.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from rig_core.evaluation import PRIMARY_METRIC

HERE = Path(__file__).parent
RECORDS = HERE / "records"
RECORD_FILES = ("metrics.csv", "final_eval.json", "final_eval_clamped.json")
PRETRAINED_VAE = "vae_pretrained.safetensors"
LONG_RUNS = {"visual-pusher", "visual-multi-pusher", "dsae"}
"""Tasks and variants whose runs outlast a session: their records keep the pretrained VAE or autoencoder (hours
of CPU, under 1.5 MB), and a run lost with its machine starts again from it (`train.vae_from`)."""
FINAL_EVAL_EPISODES = 300  # the reacher's unreachable-goal floor of a 300-goal set is within ±0.002 m of 0.025
FINAL_EVAL_SEED = 424242
FINAL_EVALS = {"final_eval.json": [], "final_eval_clamped.json": ["--goal-clip-std", "3"]}
"""The final evaluation as the run is configured, and once more with goal latents clamped to the prior ± 3 std."""
VARIANTS = {
    "rig": [],
    "oracle": ["--oracle"],
    "none": ["--relabel", "none"],
    "future": ["--relabel", "future"],
    "prior": ["--relabel", "prior"],
    # The paper's online-vs-offline VAE ablation: the reacher's default VAE is fixed, as in its main results.
    "rig-online-vae": ["--set", "vae.online_every=1000"],
    # Half the VAE data rendered goal states: the whole goal range, the reacher's out-of-reach goals included.
    "rig-goal-images": ["--set", "vae.goal_image_fraction=0.5"],
    # Imagined goals vary (std >= 0.1) in the latent dimensions the reacher's VAE leaves nearly unused.
    "rig-std-floor": ["--set", "train.prior_min_std=0.1"],
    # A stronger KL weight (beta 20, as in the authors' later Skew-Fit code) with VAE data that spans the goal range.
    "rig-beta20-goal-images": ["--set", "vae.beta=20", "--set", "vae.goal_image_fraction=0.5"],
    # The paper's image baselines (HER future relabelling) and its reward ablation, in the paper's order.
    "her-pixels": ["--method", "her-pixels"],
    "dsae": ["--method", "dsae"],
    "lr": ["--method", "lr"],
    "reward-log-prob": ["--reward", "log-prob"],
    "reward-pixel-mse": ["--reward", "pixel-mse"],
}
NO_GOAL_PRIOR = {"oracle", "her-pixels", "dsae", "lr"}
"""Variants with no imagined-goal prior: the clamped final evaluation does not apply."""
# The paper's figure windows and approximate RIG levels (RIG_REFERENCE.md §4; the levels are unverified readings).
PAPER = {
    "visual-reacher": {"x": (0, 10_000), "y": (0.0, 0.25), "rig": 0.05, "smoothing": 1},
    "visual-pusher": {"x": (0, 500_000), "y": (0.10, 0.28), "rig": 0.15, "smoothing": 10},
    "visual-multi-pusher": {"x": (0, 500_000), "y": (0.15, 0.40), "rig": 0.2, "smoothing": 10},
}
"""Per task: the figure's axis window, its approximate RIG level and its smoothing (RIG_REFERENCE.md §4)."""
COMPONENTS = {
    "visual-reacher": [],
    "visual-pusher": ["final_puck_distance", "final_hand_distance"],
    "visual-multi-pusher": ["final_puck1_distance", "final_puck2_distance", "final_hand_distance"],
}
"""The parts of each task's paper metric, plotted and tabled beside it."""


def run_dir(task: str, variant: str, seed: int) -> Path:
    """Where a run trains (on this machine, not committed)."""
    return HERE / "runs" / task / variant / f"seed{seed}"


def record_dir(task: str, variant: str, seed: int) -> Path:
    """Where a run's record is kept (committed)."""
    return RECORDS / task / variant / f"seed{seed}"


def run_one(task: str, variant: str, seed: int, env_steps: int, overrides: list[str], threads: int) -> Path:
    """Train (or finish training) one run; returns its directory."""
    out = run_dir(task, variant, seed)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    rig = [str(Path(sys.executable).parent / "rig"), "train", "--no-progress"]  # the installed console script
    record = record_dir(task, variant, seed)
    if (out / "checkpoint" / "state.json").is_file():
        command = rig + ["--resume", str(out), "--env-steps", str(env_steps)]
    else:
        sets = [arg for item in overrides for arg in ("--set", item.replace("{seed}", str(seed)))]
        if (record / PRETRAINED_VAE).is_file() and not any(item.startswith("train.vae_from=") for item in overrides):
            # The run was lost with its machine after pretraining: start again from its kept VAE, not from scratch.
            sets += ["--set", f"train.vae_from={record.resolve()}"]
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
    for name, extra in FINAL_EVALS.items():
        final = out / name
        done = json.loads(final.read_text()) if final.is_file() else {}
        current = (done.get("trained_env_steps"), done.get("episodes")) == (env_steps, FINAL_EVAL_EPISODES)
        if current or (extra and variant in NO_GOAL_PRIOR):  # no goal prior to clamp goal latents to
            continue
        evaluation = [rig[0], "eval", "--checkpoint", str(out), "--episodes", str(FINAL_EVAL_EPISODES), "--seed",
                      str(FINAL_EVAL_SEED), *extra]  # fmt: skip
        result = subprocess.run(evaluation, env=env, capture_output=True, text=True, check=True)
        final.write_text(result.stdout)
    keep_record(task, variant, seed, out)
    return out


def keep_record(task: str, variant: str, seed: int, out: Path) -> None:
    """Copy a run's metrics and final evaluations (and, for a long run, its pretrained VAE) to its committed
    record."""
    record = record_dir(task, variant, seed)
    record.mkdir(parents=True, exist_ok=True)
    kept = RECORD_FILES + ((PRETRAINED_VAE,) if {task, variant} & LONG_RUNS else ())
    for name in kept:
        if (out / name).is_file() and not (name == "metrics.csv" and curve_length(record / name) > curve_length(out / name)):
            shutil.copyfile(out / name, record / name)  # a run started again keeps the longer curve till it passes it


def curve_length(metrics: Path) -> int:
    """The evaluation rows of a metrics.csv (0 if there is none)."""
    return len(metrics.read_text().splitlines()[1:]) if metrics.is_file() else 0


def collect(task: str, runs: dict[tuple[str, int], Path]) -> list[dict[str, float | str]]:
    """Every evaluation row of every run, tagged with variant and seed."""
    rows: list[dict[str, float | str]] = []
    for (variant, seed), out in sorted(runs.items()):
        with (out / "metrics.csv").open() as handle:
            for row in csv.DictReader(handle):
                rows.append({"variant": variant, "seed": seed, **{k: float(v) if v else float("nan") for k, v in row.items()}})
    return rows


def smoothed(values: np.ndarray, window: int) -> np.ndarray:
    """The authors' plotting: a moving average over `window` points, the series padded with its end values."""
    if window <= 1 or len(values) < 2:
        return values
    padded = np.pad(values, (window // 2, window - 1 - window // 2), mode="edge")
    return np.convolve(padded, np.ones(window) / window, mode="valid")


def curves(rows: list[dict], variant: str, metric: str) -> tuple[list[float], np.ndarray, np.ndarray, int]:
    """A variant's evaluation steps, mean and std over seeds of `metric` at each, and its number of seeds."""
    mine = [row for row in rows if row["variant"] == variant]
    steps = sorted({row["env_steps"] for row in mine})
    values = [[row[metric] for row in mine if row["env_steps"] == step] for step in steps]
    mean, std = np.array([np.mean(v) for v in values]), np.array([np.std(v) for v in values])
    return steps, mean, std, len({row["seed"] for row in mine})


def plot(task: str, rows: list[dict], metrics: list[str], path: Path) -> None:
    """Every variant on one axes per metric; the first (the paper's) in the paper's axis window."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    paper = PAPER[task]
    figure, axes = plt.subplots(1, len(metrics), figsize=(7 * len(metrics), 4.5), squeeze=False)
    for index, (axis, metric) in enumerate(zip(axes[0], metrics)):
        for variant in dict.fromkeys(row["variant"] for row in rows):
            steps, raw, std, seeds = curves(rows, variant, metric)
            mean, std = smoothed(raw, paper["smoothing"]), smoothed(std, paper["smoothing"])
            line, = axis.plot(steps, mean, marker="o" if len(steps) < 30 else None,
                              label=f"{variant} ({seeds} seed{'s' if seeds > 1 else ''})")  # fmt: skip
            axis.fill_between(steps, mean - std, mean + std, alpha=0.2, color=line.get_color())
            if paper["smoothing"] > 1:  # the unsmoothed means too, faintly
                axis.plot(steps, raw, linestyle="none", marker=".", alpha=0.4, color=line.get_color())
        axis.set_xlim(*paper["x"])
        if index == 0:
            axis.axhline(paper["rig"], color="grey", linestyle="--", label=f"paper RIG ≈ {paper['rig']} (unverified reading)")
            axis.set_ylim(*paper["y"])
            axis.set_title(f"{task}: mean ± std over seeds, paper's axis window")
        else:
            axis.set_ylim(bottom=0.0)
            axis.set_title(metric.removeprefix("final_").replace("_", " "))
        axis.set_xlabel("env steps")
        axis.set_ylabel(f"{metric} (m)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    if paper["smoothing"] > 1:
        figure.text(0.01, 0.01, f"lines: moving average of {paper['smoothing']} evaluations, as the paper's figures; dots: "
                    "each evaluation", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def per_evaluation(rows: list[dict], metrics: list[str]) -> list[str]:
    """Each variant's mean ± std over seeds of every metric at each evaluation (unsmoothed)."""
    names = [metric.removeprefix("final_").replace("_", " ") for metric in metrics]
    lines = ["", "At each evaluation (mean ± std over seeds, not smoothed):", "",
             "| variant | env steps | seeds | " + " | ".join(names) + " |", "| --- " * (3 + len(metrics)) + "|"]  # fmt: skip
    for variant in dict.fromkeys(row["variant"] for row in rows):
        columns = [curves(rows, variant, metric) for metric in metrics]
        for step_index, step in enumerate(columns[0][0]):
            seeds = sum(1 for row in rows if row["variant"] == variant and row["env_steps"] == step)
            cells = [f"{mean[step_index]:.3f} ± {std[step_index]:.3f}" for _, mean, std, _ in columns]
            lines.append(f"| {variant} | {int(step)} | {seeds} | " + " | ".join(cells) + " |")
    return lines


def final_evaluations(runs: dict[tuple[str, int], Path], name: str) -> dict[tuple[str, int], dict[str, float]]:
    """The FINAL_EVAL_EPISODES-episode evaluation `name` (a FINAL_EVALS file) of each finished run that has one."""
    values = {}
    for key, out in runs.items():
        path = out / name
        final = json.loads(path.read_text()) if path.is_file() else {}
        if final.get("episodes") == FINAL_EVAL_EPISODES:
            values[key] = final
    return values


def run_ends(rows: list[dict]) -> list[tuple[str, int, list[dict]]]:
    """Each variant's runs grouped by the env steps they reached (longest first), with each run's last row:
    seeds trained to different budgets (the pusher's one seed to 500K beside two to 200K) get a row each."""
    groups = []
    for variant in dict.fromkeys(row["variant"] for row in rows):
        mine = [row for row in rows if row["variant"] == variant]
        ends = [max((row for row in mine if row["seed"] == seed), key=lambda row: row["env_steps"])
                for seed in dict.fromkeys(row["seed"] for row in mine)]  # fmt: skip
        for last in sorted({int(row["env_steps"]) for row in ends}, reverse=True):
            groups.append((variant, last, [row for row in ends if int(row["env_steps"]) == last]))
    return groups


def summary(task: str, rows: list[dict], metric: str, command: str, runs: dict[tuple[str, int], Path]) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, no GPU"
    finals, clamped = (final_evaluations(runs, name) for name in FINAL_EVALS)
    lines = [f"# {task}: learning quality", "", f"Command: `{command}`", f"Machine: {machine}.", "",
             "The tables are rebuilt from every committed record (`benchmarks/records/`); a row's runs are",
             f"`rig train --task {task} --seed S --env-steps N` with the row's flags.", "",
             f"{metric} (m) on env-sampled goal images (greedy policy): the learning curve's last evaluation (fresh goals",
             f"each time, as in the authors' runs), and one final evaluation of the trained policy on {FINAL_EVAL_EPISODES}",
             "fresh goals (the more precise number; per seed in brackets), also with goal latents clamped to the goal",
             "prior's mean ± 3 std (`rig eval --goal-clip-std 3`).", "",
             "| variant | seeds | env steps | curve's last point: mean ± std | final eval, "
             f"{FINAL_EVAL_EPISODES} goals: mean ± std | per seed | goal clamp 3 std | per seed | "
             "wall time (min, mean) | paper (unverified reading of its figure) | `rig train` flags |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for variant, last, ends in run_ends(rows):
        curve = [row[metric] for row in ends]
        keys = [(variant, int(row["seed"])) for row in ends]
        cells = []
        for evaluations in (finals, clamped):
            precise = [evaluations[key][metric] for key in keys if key in evaluations]
            cells += [f"{np.mean(precise):.3f} ± {np.std(precise):.3f}" if precise else "n/a",
                      ", ".join(f"{value:.3f}" for value in precise)]  # fmt: skip
        minutes = np.mean([row["wall_time_s"] for row in ends]) / 60
        paper = f"≈ {PAPER[task]['rig']} at {PAPER[task]['x'][1]:,} steps" if variant == "rig" else "not known"
        lines.append(f"| {variant} | {len(ends)} | {int(last)} | {np.mean(curve):.3f} ± {np.std(curve):.3f} | "
                     f"**{cells[0]}** | {' | '.join(cells[1:])} | {minutes:.1f} | {paper} | {flags(variant)} |")  # fmt: skip
    return "\n".join(lines + reach_split(finals, metric)) + "\n"


def flags(variant: str) -> str:
    """The variant's `rig train` flags beside `--task T --seed S --env-steps N`, as a Markdown code span."""
    return f"`{' '.join(VARIANTS[variant])}`" if VARIANTS[variant] else "(none)"


def reach_split(finals: dict[tuple[str, int], dict[str, float]], metric: str) -> list[str]:
    """The reacher's final evaluation split into goals in and out of the hand's reach, with the set's floor."""
    floors = {round(final["hand_distance_floor"], 4) for final in finals.values() if "hand_distance_floor" in final}
    if not any(floors):  # only the reacher has goals out of reach (RIG_REFERENCE.md §5, trap 4)
        return []
    values = ", ".join(f"{floor:.3f}" for floor in sorted(floors))
    lines = ["", f"The final set's unreachable-goal floor (a perfect controller's {metric}): {values} m (0.025 m",
             "expected over the reacher's whole goal range). The same evaluation split by goal:", "",
             "| variant | goals in reach: mean ± std | goals out of reach: mean ± std |", "| --- | --- | --- |"]  # fmt: skip
    keys = ("final_hand_distance_reachable", "final_hand_distance_out_of_reach")
    for variant in dict.fromkeys(variant for variant, _ in sorted(finals)):
        split = [final for (name, _), final in sorted(finals.items()) if name == variant and keys[0] in final]
        if split:
            cells = [np.array([final[key] for final in split]) for key in keys]
            lines.append(f"| {variant} | " + " | ".join(f"{cell.mean():.3f} ± {cell.std():.3f}" for cell in cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="visual-reacher", choices=list(PAPER))
    parser.add_argument("--env-steps", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=["rig", "oracle"], choices=list(VARIANTS))
    parser.add_argument("--set", action="append", default=[], help="config override passed to every new run")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (torch threads are split between them)")
    parser.add_argument("--threads", type=int, help="torch threads per run (default: the cores / --jobs)")
    parser.add_argument("--report-only", action="store_true", help="train nothing: rebuild the tables from the records")
    parser.add_argument("--keep-partial", action="store_true",
                        help="train nothing: copy the --variants and --seeds runs' records as they are now (runs in "
                             "progress), then rebuild the tables")  # fmt: skip
    args = parser.parse_args()
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    pairs = [(variant, seed) for variant in args.variants for seed in args.seeds]
    todo = [] if args.report_only or args.keep_partial else pairs
    for variant, seed in pairs if args.keep_partial else []:
        out = run_dir(args.task, variant, seed)
        if (out / "metrics.csv").is_file() or (out / PRETRAINED_VAE).is_file():
            keep_record(args.task, variant, seed, out)
    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(lambda vs: run_one(args.task, vs[0], vs[1], args.env_steps, args.set, threads), todo))
    runs = {  # every record of the task: this command's runs and every earlier one, on this machine or not
        (record.parent.name, int(record.name[4:])): record
        for record in sorted((RECORDS / args.task).glob("*/seed*"))
        if (record / "metrics.csv").is_file()
    }
    rows = collect(args.task, runs)
    stem = HERE / args.task.replace("-", "_")
    with open(f"{stem}_learning.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(dict.fromkeys(k for row in rows for k in row)))
        writer.writeheader()
        writer.writerows(rows)
    metric = PRIMARY_METRIC[args.task]
    metrics = [metric, *COMPONENTS[args.task]]
    plot(args.task, rows, metrics, Path(f"{stem}_learning.png"))
    command = "python benchmarks/learning.py " + " ".join(sys.argv[1:])
    notes = Path(f"{stem}_learning_notes.md")
    text = summary(args.task, rows, metric, command, runs)
    if COMPONENTS[args.task]:
        text += "\n".join(per_evaluation(rows, metrics)) + "\n"
    text += "\n" + notes.read_text() if notes.is_file() else ""
    Path(f"{stem}_learning.md").write_text(text)
    print(Path(f"{stem}_learning.md").read_text())


if __name__ == "__main__":
    main()
