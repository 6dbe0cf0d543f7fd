"""Does a VAE see what the task is about? Probes from its latents to the true hand and puck positions.

    python benchmarks/vae_probe.py --task visual-pusher RUN_DIR/vae_pretrained.safetensors

The model is built as its run was configured (the run directory's checkpoint/config.json: method, latent
size; a VAE, L&R's plain autoencoder or a DSAE), or with --task's defaults for a file outside a run.
Renders 400 goal states of the task (seed 1), encodes them, fits a linear map and a 5-nearest-neighbour
regressor from latents to each object's xy on 300 of them, and reports the mean error on the other 100 beside
the spread of that object's positions (the error of always guessing the mean): a probe error near the spread
means the latents hold nothing of the object, and a policy rewarded by latent distance cannot aim it. A code can
hold an object and still make a poor distance reward (a folded code puts far states near each other), so each
object, and the whole state, also gets the rank correlation between latent distance and true distance over
random pairs of the 400 states: 1 when latent distance orders pairs as the true distance does. The latents' std
per dimension (largest first) says how many dimensions the code uses, and at what scale.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from rig_core.agent import RIGAgent
from rig_core.config import RigConfig, task_config
from rig_core.envs import make_task
from rig_core.vae_training import load_pretrained_vae

PROBE_STATES, FIT, PAIRS = 400, 300, 20_000


def knn_predict(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, k: int = 5) -> np.ndarray:
    """Mean target of the k nearest training latents (Euclidean): a probe that a folded code does not defeat."""
    distances = np.linalg.norm(test_x[:, None] - train_x[None], axis=-1)
    nearest = np.argsort(distances, axis=1)[:, :k]
    return train_y[nearest].mean(axis=1)


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (ties are measure-zero here): two argsorts and a Pearson, no scipy for it."""
    ranks = [np.argsort(np.argsort(values)) for values in (a, b)]
    return float(np.corrcoef(*ranks)[0, 1])


def distance_agreement(latents: np.ndarray, positions: np.ndarray) -> float:
    """Rank correlation of latent distance with true distance over random pairs of states (seeded)."""
    first, second = np.random.default_rng(2).integers(0, len(latents), (2, PAIRS))
    latent = np.linalg.norm(latents[first] - latents[second], axis=1)
    true = np.linalg.norm(positions[first] - positions[second], axis=1)
    return rank_correlation(latent, true)


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
                        "spread": round(float(spread), 4),
                        "distance_rank_correlation": round(distance_agreement(latents, target), 3)}  # fmt: skip
    report["state"] = {"distance_rank_correlation": round(distance_agreement(latents, states), 3)}
    return report


def run_config(vae: Path, task: str) -> RigConfig:
    """The config of the run that wrote the VAE, where it sits in a run directory; else the task's defaults."""
    saved = vae.parent / "checkpoint" / "config.json"
    return RigConfig.from_dict(json.loads(saved.read_text())) if saved.is_file() else task_config(task)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="visual-pusher", help="for a VAE file outside a run directory")
    parser.add_argument("vae", type=Path, help="a vae_pretrained.safetensors (rig train writes one per run)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = run_config(args.vae, args.task)
    env = make_task(config.task, config.vae.image_size, 0)
    agent = RIGAgent(config, env.state_dim, 2)
    load_pretrained_vae(agent, args.vae)
    rng = np.random.default_rng(1)
    states = np.stack([env.sample_goal_state(rng) for _ in range(PROBE_STATES)])
    latents = agent.encode(np.stack([env.render_state(state) for state in states]))
    env.close()
    header = {"vae": str(args.vae), "task": config.task, "method": config.method.value,
              "latent_std": [round(float(std), 3) for std in np.sort(latents.std(axis=0))[::-1]]}  # fmt: skip
    print(json.dumps(header | probe(latents, states), indent=2))


if __name__ == "__main__":
    main()
