"""What a run leaves for people: metrics.csv, the learning curve PNG and image grids."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from rig_core.files import write_atomic, write_bytes
from rig_core.images import write_rgb


class MetricsCSV:
    """Appends one row per evaluation; the header is fixed by the first row of a new file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, row: dict[str, float | int]) -> None:
        """Append a row; keys unknown to an existing header are an error (they would silently vanish)."""
        exists = self.path.is_file() and self.path.stat().st_size > 0
        if exists:
            with self.path.open(newline="") as handle:
                header = next(csv.reader(handle))
            missing = set(row) - set(header)
            if missing:
                raise ValueError(f"{self.path} has no column(s) {sorted(missing)}")
        else:
            header = list(row)
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=header, restval="")
        if not exists:
            writer.writeheader()
        writer.writerow(row)
        write_bytes(self.path, text.getvalue().encode(), "ab")

    def drop_after(self, env_steps: int) -> None:
        """Delete the rows of evaluations after `env_steps` (an interrupted `rig train` repeats them)."""
        if not self.path.is_file():
            return
        with self.path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        if not rows:
            return
        column = rows[0].index("env_steps")
        kept = rows[:1] + [row for row in rows[1:] if float(row[column]) <= env_steps]
        if len(kept) < len(rows):
            text = io.StringIO()
            csv.writer(text).writerows(kept)
            write_atomic(self.path, text.getvalue().encode())

    def read(self) -> list[dict[str, float]]:
        """All rows as floats (empty cells become NaN)."""
        if not self.path.is_file():
            return []
        with self.path.open(newline="") as handle:
            return [{key: float(value) if value else math.nan for key, value in row.items()} for row in csv.DictReader(handle)]


def plot_learning_curve(rows: list[dict[str, float]], metrics: Sequence[str], path: Path, title: str) -> None:
    """Final distances against env steps, one line per metric."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    steps = [row["env_steps"] for row in rows]
    for name in metrics:
        axis.plot(steps, [row.get(name, math.nan) for row in rows], marker="o", label=name)
    axis.set_xlabel("env steps")
    axis.set_ylabel("distance to goal (m)")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=120)
    plt.close(figure)
    write_bytes(path, png.getvalue())


def save_image_grid(rows: Sequence[np.ndarray], path: Path, scale: int = 2) -> None:
    """Save rows of uint8 RGB images (each row an (N, H, W, 3) array, same N) as one PNG."""
    strips = [np.concatenate(list(row), axis=1) for row in rows]
    grid = np.concatenate(strips, axis=0)
    write_rgb(path, cv2.resize(grid, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST))
