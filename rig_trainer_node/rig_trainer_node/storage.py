"""The trainer's own file beside the Learner's: the weights version counter."""

from __future__ import annotations

import json
from pathlib import Path

from rig_core.files import write_atomic


class VersionCounter:
    """The version of the newest published weights, persisted so that versions keep increasing after a restart."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.value = int(json.loads(path.read_text())["version"]) if path.is_file() else 0

    def next(self) -> int:
        """Advance and persist (before the bundle goes out, so a version is never used twice)."""
        write_atomic(self.path, json.dumps({"version": self.value + 1}).encode())
        self.value += 1
        return self.value
