"""What a run leaves for people: metrics.csv, the learning curve PNG and image grids."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from rig_core.files import write_atomic, write_bytes
from rig_core.images import write_rgb

if TYPE_CHECKING:
    from rig_core.agent import RIGAgent


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

    def drop_after(self, env_steps: int) -> int:
        """Remove the rows of evaluations after ``env_steps`` (rewriting the file atomically); returns how many went."""
        if not self.path.is_file() or self.path.stat().st_size == 0:
            return 0
        with self.path.open(newline="") as handle:
            header, *rows = list(csv.reader(handle))
        column = header.index("env_steps")
        kept = [row for row in rows if float(row[column]) <= env_steps]
        if len(kept) < len(rows):
            text = io.StringIO()
            csv.writer(text).writerows([header, *kept])
            write_atomic(self.path, text.getvalue().encode())
        return len(rows) - len(kept)

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


def image_grid(rows: Sequence[np.ndarray], scale: int = 2, labels: Sequence[str] = ()) -> np.ndarray:
    """Rows of uint8 RGB images (each row an (N, H, W, 3) array, same N) as one image, each pixel ``scale`` x
    ``scale``; ``labels``, one per row, are written in a white margin on the left."""
    if labels and len(labels) != len(rows):
        raise ValueError(f"{len(labels)} labels for {len(rows)} rows")
    strips = [np.concatenate(list(row), axis=1) for row in rows]
    grid = cv2.resize(np.concatenate(strips, axis=0), None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    if labels:
        grid = np.concatenate([_label_margin(labels, grid.shape[0] // len(rows)), grid], axis=1)
    return grid


def save_image_grid(rows: Sequence[np.ndarray], path: Path, scale: int = 2, labels: Sequence[str] = ()) -> None:
    """`image_grid` saved as a PNG."""
    write_rgb(path, image_grid(rows, scale, labels))


def vae_grid(agent: RIGAgent, images: np.ndarray, source: str) -> np.ndarray:
    """Labelled rows: ``images`` (from ``source``), their VAE reconstructions and as many imagined goals (decoded
    prior samples, the same draws every time so grids compare across a run)."""
    imagined = agent.decode(agent.sample_prior(len(images), np.random.default_rng(0)))
    return image_grid([images, agent.reconstruct(images), imagined], labels=(source, "reconstructions", "imagined goals"))


def _label_margin(labels: Sequence[str], row_height: int) -> np.ndarray:
    """A white column with each label centred vertically in its row, in black."""
    font, size, thickness, pad = cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1, 6
    extents = [cv2.getTextSize(label, font, size, thickness)[0] for label in labels]
    margin = np.full((row_height * len(labels), max(width for width, _ in extents) + 2 * pad, 3), 255, np.uint8)
    for index, (label, (_, height)) in enumerate(zip(labels, extents)):
        baseline_y = index * row_height + (row_height + height) // 2
        cv2.putText(margin, label, (pad, baseline_y), font, size, (0, 0, 0), thickness, cv2.LINE_AA)
    return margin
