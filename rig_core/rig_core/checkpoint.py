"""Checkpoints as safetensors + JSON (never pickle): networks, optimizer moments, RNG states, counters.

Layout of a checkpoint directory:
  config.json         the RigConfig of the run
  models.safetensors  every tensor, named `<module>.<param>` / `<optimizer>.<index>.<slot>`, and the learner's
                      `rng.torch`, `recent.<loss>`, `buffer.obs|next_obs` (latents), `vae_pretraining.order`
  state.json          counters and RNG states, plus the sha256 of models.safetensors; renamed into place last, so
                      a checkpoint is complete exactly when state.json exists and its checksum matches.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from rig_core.config import RigConfig
from rig_core.errors import RigError
from rig_core.files import write_all_atomic

FORMAT = "rig-checkpoint/1"


@dataclass
class Checkpoint:
    """What a checkpoint holds once read."""

    config: RigConfig
    tensors: dict[str, torch.Tensor]
    state: dict[str, Any]


def module_tensors(name: str, module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A module's parameters and buffers under `name.`."""
    return {f"{name}.{key}": value.detach().cpu().contiguous() for key, value in module.state_dict().items()}


def load_module(name: str, module: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    """Load `name.*` tensors into a module (strict: shapes and names must match)."""
    prefix = f"{name}."
    state = {key[len(prefix) :]: value for key, value in tensors.items() if key.startswith(prefix)}
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise RigError(f"checkpoint tensors for {name!r} do not fit the model: {error}") from error


def optimizer_tensors(name: str, optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """An optimizer's per-parameter state (Adam moments and step) as flat tensors."""
    tensors = {}
    for index, slots in optimizer.state_dict()["state"].items():
        for slot, value in slots.items():
            tensors[f"{name}.{index}.{slot}"] = torch.as_tensor(value).detach().cpu().contiguous()
    return tensors


def load_optimizer(name: str, optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> None:
    """Restore per-parameter state; hyperparameters (param groups) come from the config, not the file."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    prefix = f"{name}."
    for key, value in tensors.items():
        if key.startswith(prefix):
            index, slot = key[len(prefix) :].split(".", 1)
            state.setdefault(int(index), {})[slot] = value
    optimizer.load_state_dict({"state": state, "param_groups": optimizer.state_dict()["param_groups"]})


def save_checkpoint(directory: Path, config: RigConfig, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
    """Write a checkpoint: every file is written in full before any replaces the previous checkpoint's (so a full
    disk leaves that one intact), state.json last."""
    directory.mkdir(parents=True, exist_ok=True)
    models = save(tensors, metadata={"format": FORMAT})
    full_state = {"format": FORMAT, "models_sha256": hashlib.sha256(models).hexdigest(), **state}
    config_json = json.dumps(config.to_dict(), indent=2).encode()
    state_json = json.dumps(full_state, indent=2).encode()
    write_all_atomic({directory / "config.json": config_json, directory / "models.safetensors": models,
                      directory / "state.json": state_json})  # fmt: skip


def load_checkpoint(directory: Path) -> Checkpoint:
    """Read and verify a checkpoint; any problem is a RigError with a clear message."""
    state_path, models, config_path = directory / "state.json", directory / "models.safetensors", directory / "config.json"
    for path in (config_path, models, state_path):
        if not path.is_file():
            raise RigError(f"no checkpoint at {directory}: {path.name} is missing")
    try:
        state = json.loads(state_path.read_text())
        config = RigConfig.from_dict(json.loads(config_path.read_text()))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RigError(f"checkpoint at {directory} is corrupt: {error}") from error
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise RigError(f"checkpoint at {directory} is not a {FORMAT} checkpoint")
    if _sha256(models) != state.get("models_sha256"):
        raise RigError(f"checkpoint at {directory} is corrupt: models.safetensors does not match its checksum")
    try:
        tensors = load_file(str(models))
    except SafetensorError as error:
        raise RigError(f"checkpoint at {directory} is corrupt: {error}") from error
    return Checkpoint(config, tensors, state)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
