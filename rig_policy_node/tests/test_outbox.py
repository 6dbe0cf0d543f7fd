"""The policy's replay spool (a real sqlite3 file): kept until acknowledged, re-sent when due, bounded, and
re-read by a restarted node."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from rig_policy_node.controller import TransitionRecord
from rig_policy_node.outbox import Outbox

HORIZON = 3
ROW_BYTES = 2 * 48 * 48 * 3 + 4 * (2 + 16)  # two frames, action and goal


def record(episode_id: int, step: int, horizon: int = HORIZON) -> TransitionRecord:
    rng = np.random.default_rng([episode_id, step])
    frames = rng.integers(0, 256, (2, 48, 48, 3), np.uint8)
    return TransitionRecord(episode_id, step, frames[0], rng.uniform(-1, 1, 2), frames[1],
                            rng.normal(size=16).astype(np.float32), step == horizon - 1, 3,
                            observation_stamp=(step, 1), next_observation_stamp=(step + 1, 2))  # fmt: skip


def fill(outbox: Outbox, episodes: range, steps: int = HORIZON, now: float = 0.0) -> int:
    return sum(outbox.add(record(e, s), (e, s), "cam", now) for e in episodes for s in range(steps))


def test_transitions_wait_for_their_acknowledgement_and_are_resent_whole_when_due(tmp_path):
    outbox = Outbox(tmp_path / "spool" / "robot.sqlite", "run1", 2**30)
    fill(outbox, range(2), now=10.0)
    fill(outbox, range(2, 3), steps=1, now=10.0)  # the episode being recorded is never re-sent
    assert (outbox.transitions, outbox.episodes, outbox.bytes) == (7, 3, 7 * ROW_BYTES)
    assert outbox.resend(2, now=12.0, ack_timeout_s=5.0) == []  # sent 2 s ago: its acknowledgement may still come
    batches = [outbox.resend(2, now=15.0, ack_timeout_s=5.0) for _ in range(3)]
    assert [[(s.record.episode_id, s.record.step) for s in batch] for batch in batches] == [[(0, 0), (0, 1)], [(0, 2)],
                                                                                             [(1, 0), (1, 1)]]  # fmt: skip
    again = batches[0][1]
    original = record(0, 1)
    assert (again.session_id, again.stamp, again.frame_id, again.record.weights_version) == ("run1", (0, 1), "cam", 3)
    assert (again.record.observation_stamp, again.record.next_observation_stamp) == ((1, 1), (2, 2))
    for name in ("observation", "next_observation", "goal_latent"):
        assert np.array_equal(getattr(again.record, name), getattr(original, name)), name
    np.testing.assert_array_equal(again.record.action, original.action.astype(np.float32))
    assert outbox.acknowledge("run1", 1) == 3  # acknowledged in the middle of its re-sending: the rest is not sent
    assert outbox.resend(2, now=15.0, ack_timeout_s=5.0) == []
    assert outbox.resend(2, now=16.0, ack_timeout_s=5.0) == []  # episode 0 went out whole at 15 s
    assert [s.record.step for s in outbox.resend(5, now=20.0, ack_timeout_s=5.0)] == [0, 1, 2]
    outbox.all_due()  # the trainer is back: episode 0 at once, and the one being recorded once it ends
    assert [s.record.step for s in outbox.resend(5, now=21.0, ack_timeout_s=5.0)] == [0, 1, 2]
    assert outbox.resend(5, now=21.0, ack_timeout_s=5.0) == []
    fill(outbox, range(2, 3), steps=HORIZON, now=21.0)  # its step 0 again too: replaced, not counted twice
    assert [s.record.episode_id for s in outbox.resend(5, now=21.0, ack_timeout_s=5.0)] == [2, 2, 2]
    assert outbox.acknowledge("run1", 0) == 3 and outbox.acknowledge("run1", 2) == 3
    assert (outbox.transitions, outbox.bytes) == (0, 0)


def test_a_full_spool_drops_its_oldest_whole_episodes_never_the_one_being_recorded(tmp_path):
    outbox = Outbox(tmp_path / "robot.sqlite", "run1", 7 * ROW_BYTES)
    assert fill(outbox, range(2)) == 0
    assert outbox.add(record(2, 0), (0, 0), "cam", 0.0) == 0  # 7 transitions: at the bound
    assert outbox.add(record(2, 1), (0, 0), "cam", 0.0) == 3  # 8: episode 0 goes, whole
    assert (outbox.transitions, outbox.dropped, outbox.bytes) == (5, 3, 5 * ROW_BYTES)
    long = Outbox(tmp_path / "long.sqlite", "run1", 2 * ROW_BYTES)  # one episode longer than the whole bound
    assert fill(long, range(1), steps=4) == 0 and long.transitions == 4
    assert long.add(record(1, 0), (0, 0), "cam", 0.0) == 4 and long.transitions == 1
    with pytest.raises(ValueError, match="must be > 0"):
        Outbox(tmp_path / "bad.sqlite", "run1", 0)


def test_a_restarted_node_sends_an_earlier_runs_episodes_the_one_cut_short_ending_where_it_stopped(tmp_path):
    path = tmp_path / "robot.sqlite"
    first = Outbox(path, "run1", 2**30)
    fill(first, range(1))
    fill(first, range(1, 2), steps=2)  # killed two steps into episode 1
    first.acknowledge("run1", 0)
    del first  # as a killed process leaves it: nothing closed
    restarted = Outbox(path, "run2", 2**30)
    assert (restarted.truncated, restarted.transitions, restarted.bytes) == (1, 2, 2 * ROW_BYTES)
    resent = restarted.resend(10, now=0.0, ack_timeout_s=30.0)  # never sent whole by this run: due at once
    assert [(s.session_id, s.record.episode_id, s.record.step, s.record.episode_end) for s in resent] == [
        ("run1", 1, 0, False), ("run1", 1, 1, True)]  # fmt: skip
    restarted.add(record(0, 0), (0, 0), "cam", 0.0)  # the new run counts its episodes from 0 again: apart
    assert restarted.acknowledge("run1", 1) == 2 and restarted.transitions == 1


def test_a_spool_from_before_the_frame_stamps_opens_its_images_stamped_as_they_were_sent(tmp_path):
    path = tmp_path / "robot.sqlite"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE transitions (session_id TEXT, episode_id INTEGER, step INTEGER, stamp_sec INTEGER, "
                "stamp_nanosec INTEGER, frame_id TEXT, observation BLOB, action BLOB, next_observation BLOB, "
                "goal_latent BLOB, episode_end INTEGER, weights_version INTEGER, size INTEGER, "
                "PRIMARY KEY (session_id, episode_id, step))")  # fmt: skip
    original = record(0, 0, horizon=1)
    blobs = [original.observation.tobytes(), original.action.astype(np.float32).tobytes(),
             original.next_observation.tobytes(), original.goal_latent.tobytes()]  # fmt: skip
    old.execute("INSERT INTO transitions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ("run1", 0, 0, 7, 9, "cam", *blobs, 1, 3, ROW_BYTES // 2))  # fmt: skip
    old.commit()
    old.close()
    [resent] = Outbox(path, "run2", 2**30).resend(5, now=0.0, ack_timeout_s=30.0)
    assert (resent.stamp, resent.record.observation_stamp, resent.record.next_observation_stamp) == ((7, 9),) * 3
    assert np.array_equal(resent.record.next_observation, original.next_observation)
