"""Typed configs: task defaults as the authors ran them, checked overrides, JSON round trip."""

import pytest

from rig_core.config import RelabelStrategy, RigConfig, apply_overrides, task_config
from rig_core.errors import RigError


def test_task_defaults_follow_the_authors_runs():
    reacher, pusher = task_config("visual-reacher"), task_config("visual-pusher")
    assert (reacher.vae.latent_dim, reacher.vae.beta, reacher.train.env_steps, reacher.train.updates_per_step) == (
        16,
        5.0,
        10_000,
        5,
    )
    assert (pusher.vae.latent_dim, pusher.vae.min_variance, pusher.train.updates_per_step) == (4, 1e-4, 4)
    assert (reacher.exploration.ou_theta, reacher.exploration.ou_sigma) == (0.15, 0.3)
    assert reacher.replay.relabel.fractions() == (0.1, 0.4, 0.5)
    assert [pusher.vae.beta_at(e) for e in (0, 100, 150, 200, 400)] == [0.0, 0.0, 2.5, 5.0, 5.0]


def test_overrides_are_typed_and_round_trip_through_json():
    config = apply_overrides(task_config("visual-reacher"), ["vae.latent_dim=8", "replay.relabel=future", "seed=3",
                                                             "td3.hidden_sizes=64,64", "vae.min_variance=none"])  # fmt: skip
    assert config.vae.latent_dim == 8 and config.replay.relabel is RelabelStrategy.FUTURE and config.seed == 3
    assert config.td3.hidden_sizes == (64, 64) and config.vae.min_variance is None
    assert RigConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("override", "message"),
    [("vae.latent_dim", "form"), ("vae.nope=1", "unknown config field"), ("nope.x=1", "unknown config section"),
     ("vae.latent_dim=big", "expected int"), ("replay.relabel=sometimes", "not one of")],
)  # fmt: skip
def test_bad_overrides_are_clear_errors(override, message):
    with pytest.raises(RigError, match=message):
        apply_overrides(task_config("visual-reacher"), [override])


def test_unknown_task_names_the_valid_ones():
    with pytest.raises(RigError, match="visual-reacher"):
        task_config("visual-juggler")
