"""Weights bundles: round trip into a fresh policy; any bad bundle is rejected and the policy keeps its weights."""

import dataclasses
import hashlib

import numpy as np
import pytest
import torch
from safetensors.torch import load, save, save_file

from rig_core.agent import RIGAgent
from rig_core.config import apply_overrides, task_config
from rig_core.weights import WeightsError, load_policy_weights, pack_policy_weights, read_weights_file, write_weights_file

CONFIG = apply_overrides(task_config("visual-reacher"), ["vae.image_size=48", "vae.latent_dim=4", "td3.hidden_sizes=32"])
IMAGES = np.random.default_rng(0).integers(0, 256, (4, 48, 48, 3), dtype=np.uint8)


def agents() -> tuple[RIGAgent, RIGAgent]:
    torch.manual_seed(0)
    trainer = RIGAgent(CONFIG, state_dim=2, action_dim=2)
    trainer.fit_prior(np.random.default_rng(1).standard_normal((10, 4)).astype(np.float32))
    torch.manual_seed(1)
    return trainer, RIGAgent(CONFIG, state_dim=2, action_dim=2)


def actions(agent: RIGAgent) -> np.ndarray:
    latents = agent.encode(IMAGES)
    return agent.act(latents, latents[::-1].copy())


def test_load_weights_round_trip():
    trainer, policy = agents()
    bundle = pack_policy_weights(trainer, version=3)
    assert bundle.version == 3 and bundle.sha256 == hashlib.sha256(bundle.data).hexdigest()
    assert not np.allclose(actions(policy), actions(trainer))
    load_policy_weights(policy, bundle)
    np.testing.assert_allclose(actions(policy), actions(trainer), atol=1e-6)
    np.testing.assert_array_equal(policy.prior.mean, trainer.prior.mean)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: dataclasses.replace(b, data=b.data[:-1] + bytes([b.data[-1] ^ 1])), "sha256"),
        (lambda b: dataclasses.replace(b, format="pickle"), "format"),
        (lambda b: dataclasses.replace(b, latent_dim=8), "this policy is"),
        (lambda b: dataclasses.replace(b, task="visual-pusher"), "this policy is"),
        (lambda b: dataclasses.replace(b, data=b"junk", sha256=hashlib.sha256(b"junk").hexdigest()), "safetensors"),
    ],
)  # fmt: skip
def test_a_bad_bundle_is_rejected_and_the_last_good_weights_kept(change, message):
    trainer, policy = agents()
    before = actions(policy)
    with pytest.raises(WeightsError, match=message):
        load_policy_weights(policy, change(pack_policy_weights(trainer, version=1)))
    np.testing.assert_array_equal(actions(policy), before)


def test_weights_of_another_architecture_do_not_fit():
    wide = apply_overrides(CONFIG, ["td3.hidden_sizes=64"])
    trainer = RIGAgent(wide, state_dim=2, action_dim=2)
    _, policy = agents()
    before = actions(policy)
    with pytest.raises(WeightsError, match="do not fit"):
        load_policy_weights(policy, pack_policy_weights(trainer, version=1))
    np.testing.assert_array_equal(actions(policy), before)


def test_a_weights_file_round_trips_and_a_foreign_file_is_a_clear_error(tmp_path):
    trainer, policy = agents()
    bundle = pack_policy_weights(trainer, version=7)
    write_weights_file(bundle, tmp_path / "policy.safetensors")
    assert read_weights_file(tmp_path / "policy.safetensors") == bundle
    load_policy_weights(policy, read_weights_file(tmp_path / "policy.safetensors"))
    np.testing.assert_allclose(actions(policy), actions(trainer), atol=1e-6)

    save_file({"x": torch.zeros(2)}, str(tmp_path / "plain.safetensors"))  # safetensors, but no bundle metadata
    (tmp_path / "junk.safetensors").write_bytes(b"not safetensors at all")
    for name, message in [("plain", "not a rig weights file"), ("junk", "not a rig weights file"), ("missing", "cannot read")]:
        with pytest.raises(WeightsError, match=message):
            read_weights_file(tmp_path / f"{name}.safetensors")


def test_the_bundle_carries_the_decoder_and_older_bundles_without_it_still_load():
    trainer, policy = agents()
    assert load_policy_weights(policy, pack_policy_weights(trainer, version=1))
    latents = trainer.encode(IMAGES)
    np.testing.assert_array_equal(policy.decode(latents), trainer.decode(latents))
    bundle = pack_policy_weights(agents()[1], version=2)  # as bundles were before the decoder was sent:
    assert not load_policy_weights(policy, with_tensors(bundle, lambda name: not name.startswith("decoder.")))
    np.testing.assert_array_equal(policy.decode(latents), trainer.decode(latents))  # the decoder it had is kept


def with_tensors(bundle, keep):
    """The bundle with only the tensors `keep` accepts (e.g. as bundles were before some were sent)."""
    data = save({name: value for name, value in load(bundle.data).items() if keep(name)})
    return dataclasses.replace(bundle, data=data, sha256=hashlib.sha256(data).hexdigest())


def test_the_scene_statistics_travel_with_the_weights_and_older_bundles_have_none():
    trainer, policy = agents()
    scene_images = np.concatenate([IMAGES, np.full((4, 48, 48, 3), 90, np.uint8)])
    trainer.fit_scene(scene_images)
    np.testing.assert_allclose(np.median(trainer.reconstruction_errors(scene_images)), trainer.scene.reconstruction_errors[0])
    load_policy_weights(policy, pack_policy_weights(trainer, version=1))
    np.testing.assert_array_equal(policy.scene.static, trainer.scene.static)
    np.testing.assert_array_equal(policy.scene.reconstruction_errors, trainer.scene.reconstruction_errors)
    load_policy_weights(policy, with_tensors(pack_policy_weights(trainer, version=2), lambda name: "scene." not in name))
    assert policy.scene is None


def test_malformed_scene_statistics_are_rejected_and_the_last_good_weights_kept():
    trainer, policy = agents()
    trainer.fit_scene(IMAGES)
    load_policy_weights(policy, pack_policy_weights(trainer, version=1))
    before, scene = actions(policy), policy.scene
    bundle = pack_policy_weights(trainer, version=2)
    tensors = load(bundle.data) | {"scene.static": torch.zeros((84, 84), dtype=torch.uint8)}  # another image size
    data = save(tensors)
    with pytest.raises(WeightsError, match="scene statistics of the wrong shape"):
        load_policy_weights(policy, dataclasses.replace(bundle, data=data, sha256=hashlib.sha256(data).hexdigest()))
    np.testing.assert_array_equal(actions(policy), before)
    assert policy.scene is scene
