"""TensorBoard event files beside metrics.csv (``out/tensorboard/``): the metrics rows as scalars, VAE image grids.

Written with torch's SummaryWriter (the `tensorboard` package's event format); ``tensorboard --logdir OUT`` shows them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

TENSORBOARD_DIR = "tensorboard"
STEP = "env_steps"


def scalar_tag(name: str) -> str:
    """The TensorBoard tag of a metrics column: evaluation distances, losses and run progress in their own sections."""
    if name.startswith("final_"):
        return f"eval/{name}"
    if name.endswith("_loss") or name in ("vae_reconstruction", "vae_kl", "q_mean"):
        return f"train/{name}"
    return f"progress/{name}"


class TensorBoardLog:
    """One run's event files; each call is flushed to disk, so a crash loses nothing written."""

    def __init__(self, out: Path, purge_after: int | None = None) -> None:
        """``purge_after``: a resumed run's last kept env step; TensorBoard then hides what an earlier writer logged
        after it (the training it measured was lost, as the metrics rows dropped on resume)."""
        from torch.utils.tensorboard import SummaryWriter  # imports tensorboard: only for runs that write

        self.directory = out / TENSORBOARD_DIR
        purge_step = None if purge_after is None else purge_after + 1
        self._writer = SummaryWriter(str(self.directory), purge_step=purge_step)

    def scalars(self, row: Mapping[str, float | int]) -> None:
        """Every finite number of a metrics row, at the row's env step."""
        step = int(row[STEP])
        for name, value in row.items():
            if name != STEP and math.isfinite(value):
                self._writer.add_scalar(scalar_tag(name), value, step)
        self._writer.flush()

    def image(self, tag: str, rgb: np.ndarray, step: int) -> None:
        """A uint8 (H, W, 3) image."""
        self._writer.add_image(tag, rgb, step, dataformats="HWC")
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
