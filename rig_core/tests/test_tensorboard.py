"""TensorBoard event files beside metrics.csv: every metrics column as a scalar at its env step, the VAE grids as
images, and a resumed run's TensorBoard agreeing with its metrics.csv (what a crash lost is hidden, not doubled)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tensorboard_events import images, read_events, scalar_series
from test_cli import metrics_rows, tiny_train_args

from rig_core.cli import main
from rig_core.images import read_rgb
from rig_core.tensorboard_log import TensorBoardLog, scalar_tag


def assert_scalars_match_metrics(out) -> None:
    """Each metrics.csv column, in TensorBoard, has exactly the rows' values at the rows' env steps."""
    rows, events = metrics_rows(out), read_events(out)
    assert rows
    for column in rows[0]:
        if column == "env_steps":
            continue
        expected = [(int(row["env_steps"]), float(row[column])) for row in rows if math.isfinite(float(row[column]))]
        logged = scalar_series(events, scalar_tag(column)) if expected else []
        assert [step for step, _ in logged] == [step for step, _ in expected], column
        np.testing.assert_allclose([v for _, v in logged], [v for _, v in expected], rtol=1e-6, err_msg=column)


def test_rig_train_writes_metrics_and_vae_grids_to_tensorboard(tmp_path):
    out = tmp_path / "run"
    assert main(tiny_train_args("visual-reacher", out, 200, "--image-size", "48")) == 0
    assert_scalars_match_metrics(out)
    tags = read_events(out).Tags()["scalars"]
    assert {"eval/final_hand_distance", "train/critic_loss", "train/vae_loss", "progress/td3_updates"} <= set(tags)
    grids = images(read_events(out), "vae/samples")
    assert [step for step, _ in grids] == [0, 100, 200]  # after pretraining and at each evaluation
    np.testing.assert_array_equal(grids[-1][1], read_rgb(out / "vae_samples.png"))  # the PNG beside it, lossless


def test_a_resumed_run_hides_what_the_lost_training_logged(tmp_path):
    out = tmp_path / "run"
    assert main(tiny_train_args("visual-reacher", out, 200, "--image-size", "48", "--set", "train.checkpoint_every=100")) == 0
    lost = TensorBoardLog(out)  # as a crashed run that evaluated at 300 after its last checkpoint at 200
    lost.scalars({"env_steps": 300, "final_hand_distance": 99.0})
    lost.close()
    assert main(["train", "--resume", str(out), "--env-steps", "300", "--no-progress"]) == 0
    assert_scalars_match_metrics(out)
    assert 99.0 not in [value for _, value in scalar_series(read_events(out), "eval/final_hand_distance")]


SECTIONS = [("final_puck_distance", "eval/final_puck_distance"), ("critic_loss", "train/critic_loss"),
            ("vae_kl", "train/vae_kl"), ("episodes", "progress/episodes"), ("vae_steps", "progress/vae_steps")]  # fmt: skip


@pytest.mark.parametrize(("name", "tag"), SECTIONS)
def test_columns_land_in_their_sections(name, tag):
    assert scalar_tag(name) == tag
