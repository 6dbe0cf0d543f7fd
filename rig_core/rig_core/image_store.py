"""Random-exploration images kept on disk until the VAE is pretrained on them (by `rig train` and the trainer
node), so that an interrupted run or a crash loses none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save

from rig_core.files import write_atomic
from rig_core.replay_log import read_metadata


class ImageStore:
    """One ``images_<n>.safetensors`` file (a uint8 (N, H, W, 3) array) per batch appended, in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._files = sorted(directory.glob("images_*.safetensors"))
        self.count = sum(_rows(path) for path in self._files)

    def append(self, images: np.ndarray, metadata: dict[str, str] | None = None) -> None:
        """Persist a batch of images atomically (temp file + rename), ``metadata`` in the file's header."""
        self.directory.mkdir(parents=True, exist_ok=True)
        index = int(self._files[-1].stem.split("_")[1]) + 1 if self._files else 0
        path = self.directory / f"images_{index:08d}.safetensors"
        write_atomic(path, save({"images": np.ascontiguousarray(images)}, metadata))
        self._files.append(path)
        self.count += len(images)

    def load(self) -> np.ndarray:
        """Every stored image, oldest first."""
        return np.concatenate([load_file(str(path))["images"] for path in self._files])

    def metadata(self) -> list[dict[str, str]]:
        """The metadata of every stored batch, oldest first."""
        return [read_metadata(path) for path in self._files]

    def clear(self) -> None:
        """Delete the images and their directory (once the VAE has been pretrained on them)."""
        for path in self._files:
            path.unlink(missing_ok=True)
        if self.directory.is_dir() and not any(self.directory.iterdir()):
            self.directory.rmdir()
        self._files, self.count = [], 0


def _rows(path: Path) -> int:
    with safe_open(str(path), "np") as handle:
        return int(handle.get_slice("images").get_shape()[0])
