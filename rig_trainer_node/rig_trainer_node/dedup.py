"""Which episodes of which policy runs the trainer has stored, persisted, so that a re-sent episode (the policy
sends an episode again until it is acknowledged) goes into the replay buffer once, across trainer restarts too.

The ledger is an sqlite3 table in the run directory (standard library, transactional: a crash leaves it as it was
at its last commit). An episode is recorded just after it is stored; what a crash between the two would lose, the
metadata the stored files carry themselves (`identity_metadata`) gives back when the ledger is opened.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from rig_core.errors import RigError


class EpisodeKey(NamedTuple):
    """What identifies an episode on the wire: robot, policy run (session) and the run's episode counter."""

    robot_id: str
    session_id: str
    episode_id: int


def identity_metadata(key: EpisodeKey) -> dict[str, str]:
    """The metadata a stored file carries to say which episode it holds."""
    return {"robot_id": key.robot_id, "session_id": key.session_id, "episode_id": str(key.episode_id)}


def key_from_metadata(metadata: dict[str, str]) -> EpisodeKey | None:
    """The episode a stored file holds (None for files without that metadata, e.g. from `rig train`)."""
    try:
        return EpisodeKey(metadata["robot_id"], metadata["session_id"], int(metadata["episode_id"]))
    except (KeyError, ValueError):
        return None


class DeliveryLedger:
    """The set of stored episodes, in memory for lookups (any thread) and in ``path`` (sqlite3) for restarts."""

    def __init__(self, path: Path, recovered: Iterable[dict[str, str]] = ()) -> None:
        """Open (or create) the ledger, adding the episodes whose stored files' metadata ``recovered`` holds."""
        self.path = path
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS stored (robot_id TEXT, session_id TEXT, episode_id INTEGER, "
                             "transitions INTEGER, PRIMARY KEY (robot_id, session_id, episode_id))")  # fmt: skip
            rows = self._db.execute("SELECT robot_id, session_id, episode_id FROM stored").fetchall()
        except sqlite3.Error as error:
            raise RigError(f"delivery ledger {path}: {error}") from error
        self._stored = {EpisodeKey(*row) for row in rows}
        for key in filter(None, map(key_from_metadata, recovered)):
            if key not in self:
                self.add(key, 0)

    def __contains__(self, key: object) -> bool:
        return key in self._stored

    def __len__(self) -> int:
        return len(self._stored)

    def add(self, key: EpisodeKey, transitions: int) -> None:
        """Record a stored episode (committed before this returns)."""
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO stored VALUES (?, ?, ?, ?)", (*key, transitions))
            self._stored.add(key)

    def close(self) -> None:
        with self._lock:
            self._db.close()
