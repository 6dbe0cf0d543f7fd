"""The replay buffer's write-ahead log: one safetensors file per episode, written as soon as it ends.

A run (or the trainer node) appends every finished episode here before it trains on it, so a crash
loses no stored transition: on resume the buffer is rebuilt from the log. Files whose episodes the
ring buffer has fully overwritten are pruned.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import load_file, save

from rig_core.errors import RigError
from rig_core.files import write_atomic
from rig_core.replay import Episode

_FIELDS = ("obs", "action", "next_obs", "goal", "obs_image", "next_obs_image")


class ReplayLog:
    """Episodes stored as `episode_<n>.safetensors` in one directory, in arrival order."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._files = sorted(directory.glob("episode_*.safetensors"))
        self._lengths: list[int] = []

    @property
    def episodes(self) -> int:
        """How many episodes the log holds."""
        return len(self._files)

    def append(self, episode: Episode, metadata: dict[str, str] | None = None) -> None:
        """Persist an episode atomically (temp file + rename), with ``metadata`` (e.g. where it came from) in the
        file's header, so that what is stored and what identifies it are written together."""
        index = _index(self._files[-1]) + 1 if self._files else 0
        path = self.directory / f"episode_{index:08d}.safetensors"
        tensors = {
            name: np.ascontiguousarray(getattr(episode, name)) for name in _FIELDS if getattr(episode, name) is not None
        }
        write_atomic(path, save(tensors, metadata))
        self._files.append(path)
        self._lengths.append(len(episode))

    def read(self) -> Iterator[tuple[int, Episode]]:
        """Every logged (episode index, episode), oldest first (records lengths for `prune`)."""
        self._lengths = []
        for path in self._files:
            try:
                tensors = load_file(str(path))
                episode = Episode(**{name: tensors.get(name) for name in _FIELDS})
            except (SafetensorError, OSError, TypeError, ValueError) as error:
                raise RigError(f"replay log file {path} is corrupt: {error}") from error
            self._lengths.append(len(episode))
            yield _index(path), episode

    def metadata(self) -> Iterator[dict[str, str]]:
        """The metadata of every logged episode, oldest first (headers only: no tensor is read)."""
        for path in self._files:
            yield read_metadata(path)

    def truncate(self, episodes: int) -> None:
        """Delete the episodes from index `episodes` on (an interrupted `rig train` collects them again)."""
        kept = sum(_index(path) < episodes for path in self._files)
        for path in self._files[kept:]:
            path.unlink(missing_ok=True)
        removed = len(self._files) - kept
        self._files, self._lengths = self._files[:kept], self._lengths[: max(len(self._lengths) - removed, 0)]

    def prune(self, capacity: int) -> None:
        """Delete the oldest episodes that lie entirely outside the newest `capacity` transitions."""
        if len(self._lengths) != len(self._files):
            return  # lengths unknown for some files (log not read in this process): keep everything
        kept, total = len(self._files), 0
        for length in reversed(self._lengths):
            if total >= capacity:
                break
            total += length
            kept -= 1
        for path in self._files[:kept]:
            path.unlink(missing_ok=True)
        self._files, self._lengths = self._files[kept:], self._lengths[kept:]


def read_metadata(path: Path) -> dict[str, str]:
    """The metadata in a safetensors file's header ({} if none); raises RigError for an unreadable file."""
    try:
        with safe_open(str(path), "np") as handle:
            return dict(handle.metadata() or {})
    except (SafetensorError, OSError) as error:
        raise RigError(f"{path} is corrupt: {error}") from error


def _index(path: Path) -> int:
    return int(path.stem.split("_")[1])
