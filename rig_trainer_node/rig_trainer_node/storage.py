"""The trainer's own files beside the Learner's: random-exploration images and the weights version counter."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file


class ImageStore:
    """Random-exploration images kept on disk until the VAE is pretrained on them, so a crash loses none.

    One ``images_<n>.safetensors`` file (a uint8 (N, H, W, 3) array) per finished episode.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._files = sorted(directory.glob("images_*.safetensors"))
        self.count = sum(_rows(path) for path in self._files)

    def append(self, images: np.ndarray) -> None:
        """Persist a batch of images atomically (temp file + rename)."""
        index = int(self._files[-1].stem.split("_")[1]) + 1 if self._files else 0
        path = self.directory / f"images_{index:08d}.safetensors"
        temporary = path.with_suffix(".tmp")
        save_file({"images": np.ascontiguousarray(images)}, str(temporary))
        os.replace(temporary, path)
        self._files.append(path)
        self.count += len(images)

    def load(self) -> np.ndarray:
        """Every stored image, oldest first."""
        return np.concatenate([load_file(str(path))["images"] for path in self._files])

    def clear(self) -> None:
        """Delete the images (once the VAE has been pretrained on them)."""
        for path in self._files:
            path.unlink(missing_ok=True)
        self._files, self.count = [], 0


class VersionCounter:
    """The version of the newest published weights, persisted so that versions keep increasing after a restart."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.value = int(json.loads(path.read_text())["version"]) if path.is_file() else 0

    def next(self) -> int:
        """Advance and persist (before the bundle goes out, so a version is never used twice)."""
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"version": self.value + 1}))
        os.replace(temporary, self.path)
        self.value += 1
        return self.value


def _rows(path: Path) -> int:
    with safe_open(str(path), "np") as handle:
        return int(handle.get_slice("images").get_shape()[0])
