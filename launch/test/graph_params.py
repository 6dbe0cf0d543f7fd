"""Parameters shared by the graph tests (DDS here, launch_testing on ROS 2): a trainer that pretrains in seconds."""

from __future__ import annotations

from pathlib import Path

import yaml

from rig_launch.graph import DEFAULT_PARAMS_FILE

TRAINED_POLICY = Path(__file__).with_name("data") / "reacher_policy.safetensors"
"""`rig export` of a Visual Reacher checkpoint trained for 10K env steps (benchmarks/visual_reacher_learning.md)."""
TINY_TRAINER = ("vae.num_images=200;vae.pretrain_epochs=2;vae.batches_per_epoch=5;"
                "train.min_steps_before_training=50;train.checkpoint_every=100")  # fmt: skip
"""`config_overrides` of trainer_node: a VAE pretrained in seconds, TD3 updates after 50 transitions."""


def quick_params_file(out_dir: Path) -> Path:
    """The packaged parameter file with the tiny trainer writing to ``out_dir`` and frequent status and weights."""
    params = yaml.safe_load(DEFAULT_PARAMS_FILE.read_text())
    params["trainer_node"]["ros__parameters"].update(
        out_dir=str(out_dir / "trainer"), config_overrides=TINY_TRAINER, weights_every_s=1.0
    )
    params["policy_node"]["ros__parameters"]["status_rate_hz"] = 5.0
    path = out_dir / "rig_params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path
