"""Where a Visual Pusher run spends its time: the paper's pusher settings (4 TD3 updates per env step, an online
VAE phase every 3,000 steps), VAE pretraining cut to a token, profiled with cProfile, then timed without it.

    python benchmarks/pusher_profile.py --label before   # or after; appends to benchmarks/pusher_profile.csv

Rates are env steps per CPU-second of this process (time.process_time, one torch thread), so they do not
depend much on what else the machine runs; the profile's shares are of its own (profiled) run.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import pstats
import tempfile
import time
from pathlib import Path

import torch

from rig_core.config import apply_overrides, task_config
from rig_core.train import Run

HERE = Path(__file__).parent
TOKEN_PRETRAINING = ["vae.num_images=500", "vae.pretrain_epochs=1", "vae.batches_per_epoch=5", "train.eval_every=1000000",
                     "train.eval_episodes=1", "train.checkpoint_every=1000000"]  # fmt: skip
PARTS = {  # profile entries (file, function) whose cumulative time is reported, by what they are
    "TD3 updates": ("td3.py", "update"),
    "of which Adam steps": ("adam.py", "step"),
    "of which target updates": ("td3.py", "_soft_update"),
    "env steps (physics + render)": ("sawyer.py", "step"),
    "encoding frames": ("evaluation.py", "observe"),
    "replay sampling + relabelling": ("replay.py", "sample"),
    "online VAE phases": ("vae_training.py", "online_vae_phase"),
}


def run_pusher(env_steps: int) -> float:
    """Train the pusher for ``env_steps``; returns env steps per CPU-second."""
    config = apply_overrides(task_config("visual-pusher"), [*TOKEN_PRETRAINING, f"train.env_steps={env_steps}"])
    with tempfile.TemporaryDirectory() as out:
        run = Run(config, Path(out) / "run", progress=False)
        start = time.process_time()
        run.train()
        spent = time.process_time() - start
        run.env.close()
    return env_steps / spent


def profile_shares(env_steps: int) -> dict[str, float]:
    """Cumulative share of the profiled run's time per part."""
    profiler = cProfile.Profile()
    profiler.runcall(run_pusher, env_steps)
    stats = pstats.Stats(profiler).stats  # (file, line, function) -> (calls, primitive, tottime, cumtime, callers)
    total = max(entry[3] for entry in stats.values())
    found: dict[tuple[str, str], float] = {}
    for (file, _, function), entry in stats.items():
        key = (Path(file).name, function)
        found[key] = found.get(key, 0.0) + entry[3]
    return {part: found.get(key, float("nan")) / total for part, key in PARTS.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True, help="what this code is, e.g. before / after")
    parser.add_argument("--env-steps", type=int, default=3000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    shares = profile_shares(args.env_steps)
    rate = run_pusher(args.env_steps)
    row = {"label": args.label, "env_steps": args.env_steps, "env_steps_per_cpu_s": round(rate, 2),
           "torch": torch.__version__} | {part: round(share, 3) for part, share in shares.items()}  # fmt: skip
    path = HERE / "pusher_profile.csv"
    exists = path.is_file()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        if not exists:
            writer.writeheader()
        writer.writerow(row)
    print(row)


if __name__ == "__main__":
    main()
