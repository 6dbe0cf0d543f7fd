"""An interrupted `rig train` (RIG, and the DSAE baseline) resumed with --resume ends exactly as the uninterrupted
run: the same counters, metrics rows (but wall time), networks, optimizer moments, RNG states and replay log,
whichever phase the interrupt hit. The interrupt is a KeyboardInterrupt (what Ctrl-C raises) from the N-th call
of a function of a real tiny run, in process."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from test_cli import metrics_rows, tiny_train_args

from rig_core.agent import RIGAgent
from rig_core.cli import main
from rig_core.envs import SawyerImageTask
from rig_core.replay_log import ReplayLog

MORE = ["--image-size", "48", "--set", "vae.pretrain_epochs=3", "--set", "train.eval_episodes=2"]
"""test_cli's tiny run, 150 env steps = 3 reacher episodes of 50: 64 images collected, 3 pretraining epochs of 2
batches, TD3 updates from the second episode on, an online VAE phase and an evaluation of 2 episodes at step 100,
a final evaluation at 150."""
COLLECTED, EPISODE = 64, 50

# (what is interrupted, function, its call that raises, what the saved checkpoint must say)
PHASES = {
    "VAE data collection": (SawyerImageTask, "step", 30, {"vae_pretrained": False, "episodes": 0}),
    "VAE pretraining, mid-epoch": (RIGAgent, "train_vae", 4, {"vae_pretraining_epochs": 1}),
    "TD3 training, mid-episode": (RIGAgent, "td3_update", 25, {"vae_pretrained": True, "episodes": 1}),
    "online VAE phase": (RIGAgent, "train_vae", 3 * 2 + 2, {"episodes": 2, "last_vae_phase": 0}),
    "evaluation": (SawyerImageTask, "step", COLLECTED + 2 * EPISODE + EPISODE + 10,
                   {"episodes": 2, "last_vae_phase": 100, "last_eval": 0}),
}  # fmt: skip


def interrupt_at(monkeypatch: pytest.MonkeyPatch, owner: type, name: str, call: int) -> None:
    """Make the `call`-th call of owner.name raise KeyboardInterrupt, as Ctrl-C at that moment would."""
    original, calls = getattr(owner, name), [0]

    def interrupting(*args, **kwargs):
        calls[0] += 1
        if calls[0] == call:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, interrupting)


def saved_state(out: Path) -> dict:
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    return state | state.pop("counters")


@pytest.fixture(scope="module", params=["rig", "dsae"])
def uninterrupted(request, tmp_path_factory) -> tuple[list[str], Path]:
    """The uninterrupted run of each method (RIG, and the DSAE baseline whose long pretraining runs resume),
    with the arguments that made it."""
    args = [*MORE, "--method", request.param]
    out = tmp_path_factory.mktemp(f"uninterrupted-{request.param}") / "run"
    assert main(tiny_train_args("visual-reacher", out, 150, *args)) == 0
    return args, out


@pytest.mark.parametrize("phase", list(PHASES))
def test_a_run_interrupted_and_resumed_ends_as_the_uninterrupted_run(phase, uninterrupted, tmp_path, monkeypatch):
    owner, name, call, expected = PHASES[phase]
    args, uninterrupted = uninterrupted
    out = tmp_path / "run"
    interrupt_at(monkeypatch, owner, name, call)
    assert main(tiny_train_args("visual-reacher", out, 150, *args)) == 130
    monkeypatch.undo()
    interrupted = saved_state(out)
    assert {key: interrupted.get(key) for key in expected} == expected  # the interrupt hit the phase meant
    assert main(["train", "--resume", str(out), "--no-progress"]) == 0

    resumed, reference = saved_state(out), saved_state(uninterrupted)
    assert resumed["wall_time_s"] >= interrupted["wall_time_s"]  # wall time only grows
    for state in (resumed, reference):
        del state["wall_time_s"], state["models_sha256"]  # the checksum covers the tensors, compared below
    assert resumed == reference  # counters, numpy RNG, TD3 updates, VAE steps
    tensors, reference_tensors = (load_file(str(run / "checkpoint" / "models.safetensors")) for run in (out, uninterrupted))
    assert tensors.keys() == reference_tensors.keys()
    unequal = [key for key in tensors if not torch.equal(tensors[key], reference_tensors[key])]
    assert not unequal, f"tensors differ: {unequal}"  # networks, optimizer moments, prior, torch RNG, latents
    pretrained = [load_file(str(run / "vae_pretrained.safetensors")) for run in (out, uninterrupted)]
    assert all(torch.equal(pretrained[0][key], pretrained[1][key]) for key in pretrained[1])

    rows, reference_rows = metrics_rows(out), metrics_rows(uninterrupted)
    assert [float(row["wall_time_s"]) for row in rows] == sorted(float(row["wall_time_s"]) for row in rows)
    for row in (*rows, *reference_rows):
        del row["wall_time_s"]
    assert rows == reference_rows and [row["env_steps"] for row in rows] == ["100", "150"]
    logged, reference_logged = (list(ReplayLog(run / "replay").read()) for run in (out, uninterrupted))
    assert [index for index, _ in logged] == [index for index, _ in reference_logged] == [0, 1, 2]
    for (_, episode), (_, reference_episode) in zip(logged, reference_logged):
        for field in ("obs", "action", "next_obs", "goal", "obs_image", "next_obs_image"):
            np.testing.assert_array_equal(getattr(episode, field), getattr(reference_episode, field), err_msg=field)
    assert not (out / "vae_images").exists()  # the collected images are gone once the VAE is pretrained
