"""Relabelling: goal-source fractions, future goals from the same episode, recomputed rewards, refresh."""

import numpy as np
import pytest

from rig_core.config import RelabelStrategy
from rig_core.replay import FUTURE, PRIOR, ROLLOUT, Episode, RelabelingReplayBuffer, latent_distance_reward


def make_episode(episode_id: int, length: int = 10, dim: int = 2, images: bool = False) -> Episode:
    """Observations encode (episode id, step) so relabelled goals can be traced back."""
    steps = np.arange(length, dtype=np.float32)
    obs = np.stack([np.full(length, episode_id, np.float32), steps], axis=1)[:, :dim]
    next_obs = np.stack([np.full(length, episode_id, np.float32), steps + 1], axis=1)[:, :dim]
    image = np.full((length, 4, 4, 3), episode_id, np.uint8) if images else None
    return Episode(obs, np.zeros((length, 2), np.float32), next_obs, np.full((length, dim), -99.0, np.float32), image,
                   None if image is None else image + 1)  # fmt: skip


def prior_sampler(count: int) -> np.ndarray:
    return np.full((count, 2), 1000.0, np.float32)


def test_rig_mix_gives_ten_forty_fifty_percent():
    buffer = RelabelingReplayBuffer(1000, 2, 2, RelabelStrategy.RIG.fractions())
    for episode_id in range(10):
        buffer.add_episode(make_episode(episode_id))
    batch = buffer.sample(20_000, np.random.default_rng(0), prior_sampler)
    shares = [np.mean(batch.source == s) for s in (ROLLOUT, FUTURE, PRIOR)]
    np.testing.assert_allclose(shares, [0.1, 0.4, 0.5], atol=0.015)
    assert np.all(batch.goal[batch.source == ROLLOUT] == -99.0)
    assert np.all(batch.goal[batch.source == PRIOR] == 1000.0)


@pytest.mark.parametrize("strategy", list(RelabelStrategy))
def test_each_ablation_strategy_uses_only_its_sources(strategy):
    buffer = RelabelingReplayBuffer(100, 2, 2, strategy.fractions())
    buffer.add_episode(make_episode(0))
    batch = buffer.sample(4000, np.random.default_rng(1), prior_sampler)
    for source, fraction in zip((ROLLOUT, FUTURE, PRIOR), strategy.fractions()):
        assert abs(np.mean(batch.source == source) - fraction) < 0.03


def test_future_goals_are_achieved_states_of_the_same_episode_at_or_after_t():
    buffer = RelabelingReplayBuffer(1000, 2, 2, (0.0, 1.0, 0.0))
    for episode_id in range(5):
        buffer.add_episode(make_episode(episode_id))
    batch = buffer.sample(5000, np.random.default_rng(2), prior_sampler)
    assert np.all(batch.goal[:, 0] == batch.obs[:, 0])  # same episode
    assert np.all(batch.goal[:, 1] >= batch.next_obs[:, 1])  # at or after the transition's next state
    assert np.all(batch.goal[:, 1] <= 10)  # never past the episode's end
    assert np.any(batch.goal[:, 1] == batch.next_obs[:, 1])  # own next state included: reward 0 possible
    assert np.any(batch.reward == 0.0)


def test_rewards_are_recomputed_for_the_relabelled_goal():
    buffer = RelabelingReplayBuffer(1000, 2, 2, RelabelStrategy.RIG.fractions())
    buffer.add_episode(make_episode(3))
    batch = buffer.sample(512, np.random.default_rng(3), prior_sampler)
    np.testing.assert_allclose(batch.reward, -np.linalg.norm(batch.next_obs - batch.goal, axis=1), rtol=1e-6)
    assert latent_distance_reward(np.array([[3.0, 4.0]]), np.zeros((1, 2)))[0] == pytest.approx(-5.0)


def test_ring_buffer_overwrites_oldest_and_future_goals_stay_valid_across_the_wrap():
    buffer = RelabelingReplayBuffer(25, 2, 2, (0.0, 1.0, 0.0))
    for episode_id in range(4):  # 40 transitions into 25 slots: episode 1 partly, 2 and 3 fully kept
        buffer.add_episode(make_episode(episode_id))
    assert len(buffer) == 25
    assert set(np.unique(buffer.obs[:, 0])) == {1.0, 2.0, 3.0}
    batch = buffer.sample(3000, np.random.default_rng(4), prior_sampler)
    assert np.all(batch.goal[:, 0] == batch.obs[:, 0]) and np.all(batch.goal[:, 1] >= batch.next_obs[:, 1])


def test_refresh_latents_re_encodes_every_stored_image():
    buffer = RelabelingReplayBuffer(100, 2, 2, (1.0, 0.0, 0.0), image_shape=(4, 4, 3))
    buffer.add_episode(make_episode(7, images=True))
    buffer.refresh_latents(lambda images: np.stack([images[:, 0, 0, 0], images[:, 0, 0, 0] * 2], 1).astype(np.float32))
    np.testing.assert_array_equal(buffer.obs[:10], [[7, 14]] * 10)
    np.testing.assert_array_equal(buffer.next_obs[:10], [[8, 16]] * 10)


def test_refresh_encodes_each_distinct_image_once_and_matches_encoding_every_image():
    def first_pixel(images: np.ndarray) -> np.ndarray:
        seen.append(len(images))
        return np.stack([images[:, 0, 0, 0], images[:, 0, 0, 1]], 1).astype(np.float32)

    rng = np.random.default_rng(0)
    buffer = RelabelingReplayBuffer(25, 2, 2, (1.0, 0.0, 0.0), image_shape=(4, 4, 3))
    for episode_id in range(4):  # 40 transitions into 25 slots: the ring wraps inside an episode
        frames = rng.integers(0, 255, (11, 4, 4, 3), dtype=np.uint8)  # o_0..o_10 of one episode
        episode = make_episode(episode_id, images=True)
        episode.obs_image, episode.next_obs_image = frames[:-1], frames[1:].copy()
        if episode_id == 3:  # a next frame that is not the next transition's frame (e.g. a dropped message)
            episode.next_obs_image[4] = 255 - episode.next_obs_image[4]
        buffer.add_episode(episode)
    seen: list[int] = []
    buffer.refresh_latents(first_pixel, chunk=7)
    np.testing.assert_array_equal(buffer.obs, first_pixel(buffer.obs_image))
    np.testing.assert_array_equal(buffer.next_obs, first_pixel(buffer.next_obs_image))
    # 25 observations, then only the next frames with no successor in the buffer (the last transition of each
    # of the 3 episodes kept, the newest one's followed by the oldest kept transition) and the altered one.
    assert sum(seen[:-2]) == 25 + 3 + 1


def test_invalid_fractions_and_mismatched_episodes_are_rejected():
    with pytest.raises(ValueError, match="sum to 1"):
        RelabelingReplayBuffer(10, 2, 2, (0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="one row per transition"):
        Episode(np.zeros((3, 2)), np.zeros((2, 2)), np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="images"):
        RelabelingReplayBuffer(100, 2, 2, (1.0, 0.0, 0.0), image_shape=(4, 4, 3)).add_episode(make_episode(0))
