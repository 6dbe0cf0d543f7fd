"""Throughput of the pieces of a RIG run: env steps/s with rendering, render and encode cost per frame,
TD3 and VAE gradient steps/s. Writes benchmarks/throughput.csv and benchmarks/throughput.md (ending with
benchmarks/throughput_notes.md, the hand-written account).

Rates are per CPU-second of this process (time.process_time, all its threads) with one torch thread, so
they do not depend on what else the machine is doing; on an idle core they equal wall-clock rates.

    python benchmarks/throughput.py
"""

from __future__ import annotations

import csv
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from rig_core.agent import RIGAgent
from rig_core.config import apply_overrides, task_config
from rig_core.envs import TASK_NAMES, make_task
from rig_core.replay import Episode, RelabelingReplayBuffer

HERE = Path(__file__).parent
Row = dict[str, object]


def per_second(work: Callable[[], object], repeats: int, warmup: int = 3) -> float:
    """Calls of `work` per CPU-second (median of three timed blocks)."""
    for _ in range(warmup):
        work()
    rates = []
    for _ in range(3):
        start = time.process_time()
        for _ in range(repeats):
            work()
        rates.append(repeats / (time.process_time() - start))
    return float(np.median(rates))


def env_rows(task: str, size: int, rng: np.random.Generator) -> list[Row]:
    """Env steps/s (physics + render) under random actions, and render cost alone."""
    env = make_task(task, image_size=size, seed=0)
    env.reset(seed=0)

    def step() -> None:
        if env.step(rng.uniform(-1, 1, 2).astype(np.float32))[3]:
            env.reset()

    steps = per_second(step, 200)
    render_ms = 1000.0 / per_second(env.render_image, 200)
    env.close()
    return [
        {"what": "env steps/s incl. render", "task": task, "image_size": size, "value": steps},
        {"what": "render ms/frame", "task": task, "image_size": size, "value": render_ms},
    ]


def vae_rows(size: int, rng: np.random.Generator) -> list[Row]:
    """Single-frame encode latency (what the policy pays per step) and VAE gradient steps/s."""
    agent = RIGAgent(apply_overrides(task_config("visual-reacher"), [f"vae.image_size={size}"]), state_dim=2, action_dim=2)
    frame = rng.integers(0, 256, (1, size, size, 3), dtype=np.uint8)
    batch = rng.integers(0, 256, (128, size, size, 3), dtype=np.uint8)
    encode_ms = 1000.0 / per_second(lambda: agent.encode(frame), 200)
    vae_steps = per_second(lambda: agent.train_vae(batch, 5.0), 10)
    return [
        {"what": "encode ms/frame (single)", "task": "-", "image_size": size, "value": encode_ms},
        {"what": "VAE grad steps/s (batch 128)", "task": "-", "image_size": size, "value": vae_steps},
    ]


def td3_rows(rng: np.random.Generator) -> list[Row]:
    """TD3 gradient steps/s including relabelled sampling from the buffer (latent 16, batch 128)."""
    config = task_config("visual-reacher")
    agent = RIGAgent(config, state_dim=2, action_dim=2)
    buffer = RelabelingReplayBuffer(10_000, 16, 2, config.replay.relabel.fractions())
    for _ in range(20):
        obs = rng.standard_normal((50, 16)).astype(np.float32)
        buffer.add_episode(Episode(obs, rng.uniform(-1, 1, (50, 2)).astype(np.float32), obs, obs))

    def update() -> None:
        agent.td3_update(buffer.sample(128, rng, lambda count: agent.sample_prior(count, rng)))

    rate = per_second(update, 100)
    return [{"what": "TD3 grad steps/s (batch 128, with relabelling)", "task": "-", "image_size": "-", "value": rate}]


def main() -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    rows = [row for task in TASK_NAMES for size in (84, 48) for row in env_rows(task, size, rng)]
    rows += [row for size in (84, 48) for row in vae_rows(size, rng)] + td3_rows(rng)
    cpu = platform.processor() or platform.machine()
    machine = f"{cpu}, {os.cpu_count()} cores, 1 torch thread, torch {torch.__version__}, no GPU; rates per CPU-second"
    with (HERE / "throughput.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["what", "task", "image_size", "value"])
        writer.writeheader()
        writer.writerows({**row, "value": round(float(row["value"]), 3)} for row in rows)
    lines = ["# Throughput", "", f"Command: `python benchmarks/throughput.py`. Machine: {machine}.", "",
             "| what | task | image | value |", "| --- | --- | --- | --- |"]  # fmt: skip
    lines += [f"| {row['what']} | {row['task']} | {row['image_size']} | {float(row['value']):.2f} |" for row in rows]
    notes = HERE / "throughput_notes.md"  # the hand-written account: what the numbers mean, what was changed
    (HERE / "throughput.md").write_text("\n".join(lines) + "\n" + ("\n" + notes.read_text() if notes.is_file() else ""))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
