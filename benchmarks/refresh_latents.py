"""The cost of re-encoding a full replay buffer after an online VAE phase (the pushers' every 3,000 env steps):
every stored image encoded, as before, against each distinct image once (`RelabelingReplayBuffer.refresh_latents`:
within an episode o_{t+1} is the next transition's o_t).

    python benchmarks/refresh_latents.py            # the pusher's 100K buffer; appends to refresh_latents.csv

The buffer holds 100-step episodes of real pusher frames (a pool of rendered goal states, drawn at random);
the encoder is the pusher's VAE (untrained: the cost does not depend on the weights). CPU seconds of this
process, one torch thread.
"""

from __future__ import annotations

import argparse
import csv
import platform
import time
from pathlib import Path

import numpy as np
import torch

from rig_core.agent import RIGAgent
from rig_core.config import task_config
from rig_core.envs import make_task
from rig_core.replay import Episode, RelabelingReplayBuffer

HERE = Path(__file__).parent
HORIZON = 100


def filled_buffer(size: int, frames: int, rng: np.random.Generator) -> RelabelingReplayBuffer:
    """A pusher-shaped buffer of `size` transitions, episodes of consecutive frames from a rendered pool."""
    env = make_task("visual-pusher", 84, 0)
    pool = np.stack([env.render_state(env.sample_goal_state(rng)) for _ in range(frames)])
    env.close()
    config = task_config("visual-pusher")
    buffer = RelabelingReplayBuffer(size, config.vae.latent_dim, 2, config.replay.relabel.fractions(), (84, 84, 3))
    zeros = np.zeros((HORIZON, config.vae.latent_dim), np.float32)
    for _ in range(size // HORIZON):
        images = pool[rng.integers(0, frames, HORIZON + 1)]
        buffer.add_episode(Episode(zeros, np.zeros((HORIZON, 2), np.float32), zeros, zeros, images[:-1], images[1:]))
    return buffer


def cpu_seconds(work) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="transitions in the buffer (default: %(default)s)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    buffer = filled_buffer(args.size, 2000, rng)
    config = task_config("visual-pusher")
    agent = RIGAgent(config, 4, 2)

    def encode_every_image() -> None:  # what refresh_latents did before
        for start in range(0, buffer.size, 4096):
            stop = min(start + 4096, buffer.size)
            buffer.obs[start:stop] = agent.encode(buffer.obs_image[start:stop])
            buffer.next_obs[start:stop] = agent.encode(buffer.next_obs_image[start:stop])

    before = cpu_seconds(encode_every_image)
    expected = buffer.next_obs.copy()
    after = cpu_seconds(lambda: buffer.refresh_latents(agent.encode))
    assert np.allclose(buffer.next_obs, expected, atol=1e-5), "the deduplicated refresh changed the latents"
    row = {"buffer_transitions": buffer.size, "encode_every_image_cpu_s": round(before, 2),
           "each_distinct_image_once_cpu_s": round(after, 2), "torch": torch.__version__,
           "machine": f"{platform.machine()}, 1 torch thread"}  # fmt: skip
    path = HERE / "refresh_latents.csv"
    new = not path.is_file()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)
    print(row)


if __name__ == "__main__":
    main()
