"""Replay buffer with RIG goal relabelling (a buffer component, as SB3's HerReplayBuffer, not a TD3 subclass).

Stores whole episodes: observations (VAE latents, true states for the Oracle, or the uint8 images themselves
for HER on pixels), actions, the rollout's goal, and optionally the uint8 images the latents came from, so that
latents can be refreshed after the VAE is fine-tuned (RIG_REFERENCE.md §5, trap 6). Every sampled goal is drawn
from a mix of the rollout goal, a "future" achieved observation of the same episode and a prior sample, and the
reward is recomputed for the final goal: by default r = -||obs' - goal||_2 (latent distance with identity
metric, §1.5); `rewards.py` has the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

GoalSampler = Callable[[int], np.ndarray]
Reward = Callable[[np.ndarray, np.ndarray, Callable[[], np.ndarray]], np.ndarray]
"""(next observations, goals, the next images, fetched only when called) -> rewards of a batch."""

# Goal sources of a relabelled sample, reported for tests and diagnostics.
ROLLOUT, FUTURE, PRIOR = 0, 1, 2


@dataclass
class Episode:
    """One episode (T transitions) as the buffer and the replay log take it."""

    obs: np.ndarray  # (T, D) float32: latent means (or states) of o_t; (T, H, W, 3) uint8 images for HER on pixels
    action: np.ndarray  # (T, A) float32
    next_obs: np.ndarray  # as obs: of o_{t+1}
    goal: np.ndarray  # as obs: the goal the rollout was acting towards
    obs_image: np.ndarray | None = None  # (T, H, W, 3) uint8
    next_obs_image: np.ndarray | None = None  # (T, H, W, 3) uint8

    def __post_init__(self) -> None:
        length = len(self.obs)
        if length == 0:
            raise ValueError("an episode needs at least one transition")
        arrays = [self.action, self.next_obs, self.goal] + [a for a in (self.obs_image, self.next_obs_image) if a is not None]
        if any(len(array) != length for array in arrays):
            raise ValueError("every array of an episode must have one row per transition")
        if (self.obs_image is None) != (self.next_obs_image is None):
            raise ValueError("an episode has both observation images or neither")

    def __len__(self) -> int:
        return len(self.obs)


class RelabelledBatch(NamedTuple):
    """A sampled batch with relabelled goals and recomputed rewards (numpy, float32)."""

    obs: np.ndarray
    action: np.ndarray
    next_obs: np.ndarray
    goal: np.ndarray
    reward: np.ndarray
    source: np.ndarray  # ROLLOUT / FUTURE / PRIOR per sample


def latent_distance_reward(next_obs: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """RIG's reward: minus the Euclidean distance between the next latent and the goal latent."""
    return -np.linalg.norm(next_obs - goal, axis=-1).astype(np.float32)


def latent_distance(next_obs: np.ndarray, goal: np.ndarray, _next_images: Callable[[], np.ndarray]) -> np.ndarray:
    """`latent_distance_reward` as a buffer `Reward`."""
    return latent_distance_reward(next_obs, goal)


class RelabelingReplayBuffer:
    """A ring buffer of transitions that relabels goals when sampled. Observations and goals are float32 vectors
    of `obs_shape` (an int) or, given a tuple shape and `obs_dtype`, anything else (uint8 images)."""

    def __init__(
        self,
        capacity: int,
        obs_shape: int | tuple[int, ...],
        action_dim: int,
        fractions: tuple[float, float, float],
        image_shape: tuple[int, int, int] | None = None,
        reward: Reward = latent_distance,
        obs_dtype: type = np.float32,
    ) -> None:
        if min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-6:
            raise ValueError(f"relabelling fractions (rollout, future, prior) must be >= 0 and sum to 1: {fractions}")
        self.capacity = capacity
        self.fractions, self.reward = fractions, reward
        shape = (obs_shape,) if isinstance(obs_shape, int) else obs_shape
        self.obs = np.zeros((capacity, *shape), obs_dtype)
        self.next_obs = np.zeros((capacity, *shape), obs_dtype)
        self.action = np.zeros((capacity, action_dim), np.float32)
        self.goal = np.zeros((capacity, *shape), obs_dtype)
        self.steps_to_end = np.zeros(capacity, np.int64)
        self.obs_image = np.zeros((capacity, *image_shape), np.uint8) if image_shape else None
        self.next_obs_image = np.zeros((capacity, *image_shape), np.uint8) if image_shape else None
        self.size = 0
        self.position = 0
        self.total_added = 0

    def __len__(self) -> int:
        return self.size

    def add_episode(self, episode: Episode) -> None:
        """Append a whole episode (overwriting the oldest transitions when full)."""
        length = len(episode)
        if length > self.capacity:
            raise ValueError(f"episode of {length} transitions exceeds the buffer capacity {self.capacity}")
        if (episode.obs_image is None) != (self.obs_image is None):
            raise ValueError("episode images do not match the buffer (images stored iff the buffer has image_shape)")
        index = (self.position + np.arange(length)) % self.capacity
        self.obs[index] = episode.obs
        self.next_obs[index] = episode.next_obs
        self.action[index] = episode.action
        self.goal[index] = episode.goal
        self.steps_to_end[index] = np.arange(length - 1, -1, -1)
        if self.obs_image is not None and self.next_obs_image is not None:
            self.obs_image[index] = episode.obs_image
            self.next_obs_image[index] = episode.next_obs_image
        self.position = (self.position + length) % self.capacity
        self.size = min(self.size + length, self.capacity)
        self.total_added += length

    def place_next_at(self, transition: int) -> None:
        """Store the next transition where the run's `transition`-th one (counted from 0) went: an empty buffer
        refilled from the replay log then holds every transition in the slot the live buffer had it in."""
        if self.size:
            raise ValueError("only an empty buffer can be placed")
        self.position = transition % self.capacity

    def sample(self, batch_size: int, rng: np.random.Generator, sample_prior: GoalSampler) -> RelabelledBatch:
        """A uniformly sampled batch whose goals are relabelled and rewards recomputed."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        index = rng.integers(0, self.size, batch_size)
        rollout, future, _ = self.fractions
        draw = rng.random(batch_size)
        source = np.where(draw < rollout, ROLLOUT, np.where(draw < rollout + future, FUTURE, PRIOR))
        goal = self.goal[index].copy()
        is_future = source == FUTURE
        if is_future.any():
            # HER "future": an achieved next state from t..T of the same episode, the transition's own
            # next state included (so the reward can be exactly 0, as in the authors' buffer).
            offsets = (rng.random(is_future.sum()) * (self.steps_to_end[index[is_future]] + 1)).astype(np.int64)
            goal[is_future] = self.next_obs[(index[is_future] + offsets) % self.capacity]
        is_prior = source == PRIOR
        if is_prior.any():
            goal[is_prior] = sample_prior(int(is_prior.sum()))
        next_obs = self.next_obs[index]
        reward = self.reward(next_obs, goal, lambda: self._images(index))
        return RelabelledBatch(self.obs[index], self.action[index], next_obs, goal, reward, source)

    def _images(self, index: np.ndarray) -> np.ndarray:
        if self.next_obs_image is None:
            raise ValueError("this reward needs the next observations' images, and the buffer holds none")
        return self.next_obs_image[index]

    def sample_images(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """Random stored observation images (for online VAE training)."""
        if self.obs_image is None or self.size == 0:
            raise ValueError("the buffer holds no images")
        return self.obs_image[rng.integers(0, self.size, count)]

    def refresh_latents(self, encode: Callable[[np.ndarray], np.ndarray], chunk: int = 4096) -> None:
        """Re-encode every stored image with the current encoder (after the VAE changed). Within an episode o_{t+1}
        is the next slot's o_t: where the two images are the same bytes, that latent is copied, not encoded again
        (half the work: 19 -> 10 CPU-s a phase at the pusher's full buffer)."""
        if self.obs_image is None or self.next_obs_image is None:
            raise ValueError("the buffer holds no images to re-encode")
        for start in range(0, self.size, chunk):
            stop = min(start + chunk, self.size)
            self.obs[start:stop] = encode(self.obs_image[start:stop])
        successor = (np.arange(self.size) + 1) % self.capacity
        same = np.zeros(self.size, bool)
        # Compare slot i's next image with slot i+1's image as whole 8-byte words of two views (no copies).
        word = np.uint64 if self.obs_image[0].nbytes % 8 == 0 else np.uint8
        next_rows = self.next_obs_image[: self.size].reshape(self.size, -1).view(word)
        rows = self.obs_image[: self.size].reshape(self.size, -1).view(word)
        for start in range(0, self.size - 1, chunk):
            stop = min(start + chunk, self.size - 1)
            same[start:stop] = (next_rows[start:stop] == rows[start + 1 : stop + 1]).all(axis=1)
        if self.size == self.capacity:  # the ring's last slot is followed by its first
            same[-1] = np.array_equal(next_rows[-1], rows[0])
        same &= self.steps_to_end[: self.size] > 0
        shared = np.flatnonzero(same)
        self.next_obs[shared] = self.obs[successor[shared]]
        rest = np.flatnonzero(~same)
        for start in range(0, len(rest), chunk):
            index = rest[start : start + chunk]
            self.next_obs[index] = encode(self.next_obs_image[index])
