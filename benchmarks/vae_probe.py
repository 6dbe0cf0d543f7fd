"""Does a VAE see what the task is about? Probes from its latents to the true hand and puck positions.

    python benchmarks/vae_probe.py --task visual-pusher RUN_DIR/vae_pretrained.safetensors

Renders 400 goal states of the task (seed 1), encodes them, fits a linear map and a 5-nearest-neighbour
regressor from latents to each object's xy on 300 of them, and reports the mean error on the other 100 beside
the spread of that object's positions (the error of always guessing the mean): a probe error near the spread
means the latents hold nothing of the object, and a policy rewarded by latent distance cannot aim it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from rig_core.agent import RIGAgent
from rig_core.config import task_config
from rig_core.envs import make_task
from rig_core.vae_training import load_pretrained_vae

PROBE_STATES, FIT = 400, 300


def knn_predict(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, k: int = 5) -> np.ndarray:
    """Mean target of the k nearest training latents (Euclidean): a probe that a folded code does not defeat."""
    distances = np.linalg.norm(test_x[:, None] - train_x[None], axis=-1)
    nearest = np.argsort(distances, axis=1)[:, :k]
    return train_y[nearest].mean(axis=1)


def probe(latents: np.ndarray, states: np.ndarray) -> dict[str, dict[str, float]]:
    """Per object (hand, puck, ...): linear and kNN probe errors (m) on the held-out states, and the spread."""
    features = np.c_[latents, np.ones(len(latents))]
    names = ["hand"] + [f"puck{i + 1}" for i in range(states.shape[1] // 2 - 1)]
    report = {}
    for index, name in enumerate(names):
        target = states[:, 2 * index : 2 * index + 2]
        coef, *_ = np.linalg.lstsq(features[:FIT], target[:FIT], rcond=None)
        linear = np.linalg.norm(features[FIT:] @ coef - target[FIT:], axis=1).mean()
        knn = np.linalg.norm(knn_predict(latents[:FIT], target[:FIT], latents[FIT:]) - target[FIT:], axis=1).mean()
        spread = np.linalg.norm(target[FIT:] - target[:FIT].mean(axis=0), axis=1).mean()
        report[name] = {"linear_error": round(float(linear), 4), "knn_error": round(float(knn), 4),
                        "spread": round(float(spread), 4)}  # fmt: skip
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="visual-pusher")
    parser.add_argument("vae", type=Path, help="a vae_pretrained.safetensors (rig train writes one per run)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    env = make_task(args.task, 84, 0)
    agent = RIGAgent(task_config(args.task), env.state_dim, 2)
    load_pretrained_vae(agent, args.vae)
    rng = np.random.default_rng(1)
    states = np.stack([env.sample_goal_state(rng) for _ in range(PROBE_STATES)])
    latents = agent.encode(np.stack([env.render_state(state) for state in states]))
    env.close()
    print(json.dumps({"vae": str(args.vae), "task": args.task} | probe(latents, states), indent=2))


if __name__ == "__main__":
    main()
