"""The policy's outbox: every transition stays on disk until the trainer acknowledges its episode, and is sent
again while it is not, so no experience is lost while the trainer is down, restarting or unreachable.

One sqlite3 database per robot (standard library; each insert is a transaction, so a killed process leaves every
transition it stored): rows are keyed by (session, episode, step), a session being one run of the policy node.
It is bounded in bytes: beyond ``max_bytes`` the oldest whole episodes are dropped (and counted), never the one
being recorded. A restarted node re-reads it: episodes of earlier runs cut short by the stop or crash get
``episode_end`` on their last stored step (a shorter episode, kept) and are sent again like any other.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rig_core.errors import RigError
from rig_policy_node.controller import TransitionRecord

_SCHEMA = """CREATE TABLE IF NOT EXISTS transitions (
    session_id TEXT, episode_id INTEGER, step INTEGER, stamp_sec INTEGER, stamp_nanosec INTEGER, frame_id TEXT,
    observation BLOB, action BLOB, next_observation BLOB, goal_latent BLOB, episode_end INTEGER,
    weights_version INTEGER, size INTEGER, PRIMARY KEY (session_id, episode_id, step))"""
_FRAME_STAMPS = ("observation_sec", "observation_nanosec", "next_observation_sec", "next_observation_nanosec")
"""The columns of the camera stamps of a transition's two images (added to spools written before them)."""
_COLUMNS = "session_id, episode_id, step, stamp_sec, stamp_nanosec, frame_id, observation, action, next_observation, " \
    f"goal_latent, episode_end, weights_version, {', '.join(_FRAME_STAMPS)}"  # fmt: skip

CHECKPOINT_S = 2.0
"""How often the spool's write-ahead log is moved into its database."""
EpisodeRef = tuple[str, int]
"""(session_id, episode_id) of one episode in the outbox."""


@dataclass(frozen=True)
class Spooled:
    """A stored transition with what its message carried besides the record."""

    session_id: str
    record: TransitionRecord
    stamp: tuple[int, int]
    """(sec, nanosec) of the message's header when it was first sent."""
    frame_id: str


class Outbox:
    """Unacknowledged transitions of one robot in ``path``; ``session_id`` names this run of the node."""

    def __init__(self, path: Path, session_id: str, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError(f"the spool's size limit must be > 0, got {max_bytes} bytes")
        self.path, self.session_id, self.max_bytes = path, session_id, max_bytes
        self.dropped = 0
        """Transitions dropped by this run to stay within max_bytes."""
        self._sent_at: dict[EpisodeRef, float] = {}  # finished episodes: when last sent whole (monotonic)
        self._cursor: tuple[EpisodeRef, int] | None = None  # the episode being re-sent, its next step
        self._due_at_end = False  # the episode being recorded is due as soon as it ends (see all_due)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # a killed process loses no commit (a power cut might)
            self._db.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints (and their fsync) run on _checkpoints' thread
            self._db.execute(f"PRAGMA journal_size_limit={2**24}")  # the log file shrinks back to 16 MB once moved
            self._db.execute(_SCHEMA)
            self._add_frame_stamps()
            self.truncated = self._close_unfinished_episodes()
            self.bytes = int(self._db.execute("SELECT coalesce(sum(size), 0) FROM transitions").fetchone()[0])
        except (sqlite3.Error, OSError) as error:
            raise RigError(f"replay spool {path}: {error}") from error
        self._closed = threading.Event()
        threading.Thread(target=self._checkpoints, name="spool-checkpoints", daemon=True).start()

    @property
    def transitions(self) -> int:
        """How many transitions wait for an acknowledgement."""
        return int(self._db.execute("SELECT count(*) FROM transitions").fetchone()[0])

    @property
    def episodes(self) -> int:
        """How many episodes wait for an acknowledgement."""
        return int(self._db.execute("SELECT count(DISTINCT session_id || ':' || episode_id) FROM transitions").fetchone()[0])

    def add(self, record: TransitionRecord, stamp: tuple[int, int], frame_id: str, now: float) -> int:
        """Store a transition just produced (sent at ``now``); returns how many old ones were dropped for it."""
        blobs = [np.ascontiguousarray(value, dtype).tobytes() for value, dtype in
                 ((record.observation, np.uint8), (record.action, np.float32), (record.next_observation, np.uint8),
                  (record.goal_latent, np.float32))]  # fmt: skip
        size = sum(map(len, blobs))
        replaced = self._db.execute("SELECT size FROM transitions WHERE session_id = ? AND episode_id = ? AND step = ?",
                                    (self.session_id, record.episode_id, record.step)).fetchone()  # fmt: skip
        self.bytes -= replaced[0] if replaced else 0
        self._db.execute(f"INSERT OR REPLACE INTO transitions ({_COLUMNS}, size) VALUES ({', '.join('?' * 17)})",
                         (self.session_id, record.episode_id, record.step, *stamp, frame_id, *blobs,
                          int(record.episode_end), record.weights_version, *record.observation_stamp,
                          *record.next_observation_stamp, size))  # fmt: skip
        self.bytes += size
        if record.episode_end and not self._due_at_end:
            self._sent_at[(self.session_id, record.episode_id)] = now
        self._due_at_end &= not record.episode_end
        dropped = 0
        while self.bytes > self.max_bytes:
            oldest = self._db.execute("SELECT session_id, episode_id FROM transitions ORDER BY rowid LIMIT 1").fetchone()
            if tuple(oldest) == (self.session_id, record.episode_id):
                break  # only the episode being recorded is left: it stays whole
            dropped += self.acknowledge(*oldest)
        self.dropped += dropped
        return dropped

    def acknowledge(self, session_id: str, episode_id: int) -> int:
        """Forget an episode (the trainer stored it); returns how many transitions it had here."""
        where = "WHERE session_id = ? AND episode_id = ?"
        count, size = self._db.execute(f"SELECT count(*), coalesce(sum(size), 0) FROM transitions {where}",
                                       (session_id, episode_id)).fetchone()  # fmt: skip
        self._db.execute(f"DELETE FROM transitions {where}", (session_id, episode_id))
        self.bytes -= int(size)
        self._sent_at.pop((session_id, episode_id), None)
        return int(count)

    def all_due(self) -> None:
        """Make every unacknowledged episode due for re-sending now, and the one being recorded once it ends (the
        trainer is back: what it missed while away, and the start of the episode it came back in)."""
        self._sent_at.clear()
        self._due_at_end = True

    def resend(self, limit: int, now: float, ack_timeout_s: float) -> list[Spooled]:
        """Up to ``limit`` transitions to send again: the oldest finished episode not acknowledged within
        ``ack_timeout_s`` of its last sending, in order, continued by the next calls until it is sent whole."""
        if self._cursor is None:
            finished = self._db.execute("SELECT session_id, episode_id FROM transitions WHERE episode_end = 1 "
                                        "ORDER BY rowid").fetchall()  # fmt: skip
            due = (ref for ref in map(tuple, finished) if now - self._sent_at.get(ref, -math.inf) >= ack_timeout_s)
            ref = next(due, None)
            if ref is None:
                return []
            self._cursor = ((str(ref[0]), int(ref[1])), 0)
        (session_id, episode_id), step = self._cursor
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM transitions WHERE session_id = ? AND episode_id = ? "
                                "AND step >= ? ORDER BY step LIMIT ?", (session_id, episode_id, step, limit))  # fmt: skip
        rows = rows.fetchall()
        if len(rows) < limit:  # the rest of the episode (or it was acknowledged meanwhile)
            self._sent_at[(session_id, episode_id)] = now
            self._cursor = None
        else:
            self._cursor = ((session_id, episode_id), int(rows[-1][2]) + 1)
        return [_spooled(row) for row in rows]

    def close(self) -> None:
        self._closed.set()
        self._db.close()

    def _checkpoints(self) -> None:
        """Move the write-ahead log into the database every CHECKPOINT_S, off the control loop's thread (a
        checkpoint waits for the disk: tens of ms; a commit does not)."""
        db = sqlite3.connect(self.path, isolation_level=None)
        while not self._closed.wait(CHECKPOINT_S):
            with contextlib.suppress(sqlite3.Error):  # busy now: the next one catches up
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        db.close()

    def _add_frame_stamps(self) -> None:
        """Give a spool written before the frame stamps were kept their columns; its rows get their message's
        stamp, which their images carried when they were first sent."""
        present = {row[1] for row in self._db.execute("PRAGMA table_info(transitions)")}
        for column in (name for name in _FRAME_STAMPS if name not in present):
            self._db.execute(f"ALTER TABLE transitions ADD COLUMN {column} INTEGER")
            source = "stamp_sec" if column.endswith("_sec") else "stamp_nanosec"
            self._db.execute(f"UPDATE transitions SET {column} = {source}")

    def _close_unfinished_episodes(self) -> int:
        """Mark the last stored step of every earlier run's unfinished episode as its end; returns how many."""
        rows = self._db.execute("SELECT session_id, episode_id, max(step) FROM transitions WHERE session_id != ? "
                                "GROUP BY session_id, episode_id HAVING max(episode_end) = 0",
                                (self.session_id,)).fetchall()  # fmt: skip
        self._db.executemany("UPDATE transitions SET episode_end = 1 WHERE session_id = ? AND episode_id = ? AND step = ?",
                             rows)  # fmt: skip
        return len(rows)


def _spooled(row: tuple) -> Spooled:
    session_id, episode_id, step, sec, nanosec, frame_id, observation, action, next_observation, goal, end, version = row[:12]
    return Spooled(
        session_id=session_id,
        record=TransitionRecord(
            episode_id=episode_id,
            step=step,
            observation=_image(observation),
            action=np.frombuffer(action, np.float32).copy(),
            next_observation=_image(next_observation),
            goal_latent=np.frombuffer(goal, np.float32).copy(),
            episode_end=bool(end),
            weights_version=version,
            observation_stamp=(row[12], row[13]),
            next_observation_stamp=(row[14], row[15]),
        ),
        stamp=(sec, nanosec),
        frame_id=frame_id,
    )


def _image(data: bytes) -> np.ndarray:
    """A square uint8 RGB image from its bytes (the side follows from the length)."""
    side = math.isqrt(len(data) // 3)
    return np.frombuffer(data, np.uint8).reshape(side, side, 3).copy()
