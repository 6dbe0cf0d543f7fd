"""What a run leaves for people: metrics rows lost with a crash are dropped, image grids carry their row labels."""

import numpy as np
import pytest

from rig_core.images import read_rgb
from rig_core.reporting import MetricsCSV, save_image_grid


def test_drop_after_keeps_the_rows_up_to_the_checkpoint(tmp_path):
    metrics = MetricsCSV(tmp_path / "metrics.csv")
    assert metrics.drop_after(100) == 0  # no file yet
    for steps in (100, 200, 300, 400):
        metrics.append({"env_steps": steps, "td3_updates": 5 * steps, "final_hand_distance": 0.1})
    assert metrics.drop_after(200) == 2
    assert [row["env_steps"] for row in metrics.read()] == [100.0, 200.0]
    assert metrics.drop_after(200) == 0
    metrics.append({"env_steps": 250, "td3_updates": 1250, "final_hand_distance": 0.05})  # the header is intact
    assert [row["td3_updates"] for row in metrics.read()] == [500.0, 1000.0, 1250.0]


def test_image_grid_rows_carry_their_labels(tmp_path):
    rng = np.random.default_rng(0)
    rows = [rng.integers(0, 256, (4, 12, 12, 3), np.uint8) for _ in range(3)]
    save_image_grid(rows, tmp_path / "plain.png")
    save_image_grid(rows, tmp_path / "labelled.png", labels=("replay images", "reconstructions", "imagined goals"))
    plain, labelled = read_rgb(tmp_path / "plain.png"), read_rgb(tmp_path / "labelled.png")
    assert plain.shape == (3 * 24, 4 * 24, 3)
    margin = labelled.shape[1] - plain.shape[1]
    assert labelled.shape[0] == plain.shape[0] and margin > 0
    np.testing.assert_array_equal(labelled[:, margin:], plain)  # the images themselves are untouched
    for row in range(3):  # each row's margin holds dark text on white
        band = labelled[row * 24 : (row + 1) * 24, :margin]
        assert band.min() < 100 and np.median(band) == 255
    with pytest.raises(ValueError, match="2 labels for 3 rows"):
        save_image_grid(rows, tmp_path / "bad.png", labels=("a", "b"))
