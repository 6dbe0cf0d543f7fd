"""The weights bundle a trainer sends to policies: VAE encoder + actor + goal prior as safetensors bytes (and the
VAE decoder, which only the policy's live model images use), versioned and checksummed. A bundle that fails any
check is rejected and the policy keeps what it had."""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from safetensors import SafetensorError, safe_open
from safetensors.torch import load, save

from rig_core.agent import RIGAgent
from rig_core.checkpoint import load_module, module_tensors
from rig_core.config import Method, RigConfig
from rig_core.errors import RigError
from rig_core.files import write_bytes

FORMAT = "rig-weights/1 safetensors"


class WeightsError(RigError):
    """A weights bundle that must not be loaded (bad checksum, format, compatibility or shapes)."""


@dataclass(frozen=True)
class WeightsBundle:
    """Everything rig_msgs/ModelWeights carries."""

    format: str
    version: int
    sha256: str
    task: str
    image_size: int
    latent_dim: int
    action_dim: int
    config_json: str
    data: bytes


def pack_policy_weights(agent: RIGAgent, version: int) -> WeightsBundle:
    """What a policy needs to act, from a (trainer's) agent."""
    if agent.config.method is not Method.RIG:
        raise WeightsError(f"method {agent.config.method.value} is a benchmark baseline: only RIG policies go to policy nodes")
    if agent.vae is None:
        raise WeightsError("Oracle agents act on true states: they have no image policy to send")
    tensors = module_tensors("encoder", agent.vae.encoder) | module_tensors("actor", agent.td3.actor)
    tensors |= module_tensors("decoder", agent.vae.decoder)
    tensors |= agent.goal_tensors()
    config = agent.config
    fields = {"format": FORMAT, "version": version, "task": config.task, "image_size": config.vae.image_size,
              "latent_dim": config.vae.latent_dim, "action_dim": agent.action_dim,
              "config_json": json.dumps(config.to_dict())}  # fmt: skip
    data = save(tensors, metadata={name: str(value) for name, value in fields.items()})  # self-describing as a file
    return WeightsBundle(sha256=hashlib.sha256(data).hexdigest(), data=data, **fields)


def write_weights_file(bundle: WeightsBundle, path: Path) -> None:
    """Save a bundle as one .safetensors file (its data: the metadata carries the other fields)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, bundle.data)


def read_weights_file(path: Path) -> WeightsBundle:
    """The bundle in a file written by `write_weights_file` (checked when loaded, like one from the topic)."""
    try:
        data = path.read_bytes()
        metadata = safe_open(str(path), "pt").metadata() or {}
        fields = {name: metadata[name] for name in ("format", "version", "task", "image_size", "latent_dim",
                                                     "action_dim", "config_json")}  # fmt: skip
        numbers = {name: int(fields[name]) for name in ("version", "image_size", "latent_dim", "action_dim")}
    except OSError as error:
        raise WeightsError(f"cannot read weights file {path}: {error}") from error
    except (SafetensorError, KeyError, ValueError) as error:
        raise WeightsError(f"{path} is not a rig weights file (safetensors with the bundle's metadata): {error}") from error
    return WeightsBundle(sha256=hashlib.sha256(data).hexdigest(), data=data, **(fields | numbers))


def load_policy_weights(agent: RIGAgent, bundle: WeightsBundle) -> bool:
    """Check a bundle completely, then swap it into the agent; on any problem raise WeightsError and leave
    the agent exactly as it was. Returns whether the bundle had the VAE decoder (bundles before it had none:
    the agent's decoder is then left as it was, and decodes nothing of these weights)."""
    if bundle.format != FORMAT:
        raise WeightsError(f"unknown weights format {bundle.format!r} (expected {FORMAT!r})")
    if hashlib.sha256(bundle.data).hexdigest() != bundle.sha256:
        raise WeightsError(f"weights version {bundle.version}: sha256 does not match the data")
    config = agent.config
    expected = (config.task, config.vae.image_size, config.vae.latent_dim, agent.action_dim)
    offered = (bundle.task, bundle.image_size, bundle.latent_dim, bundle.action_dim)
    if offered != expected:
        raise WeightsError(f"weights version {bundle.version} are for (task, image, latent, action) {offered}, "
                           f"this policy is {expected}")  # fmt: skip
    if agent.vae is None:
        raise WeightsError("an Oracle agent cannot load image-policy weights")
    try:
        tensors = load(bundle.data)
    except SafetensorError as error:
        raise WeightsError(f"weights version {bundle.version} are not valid safetensors: {error}") from error
    encoder, actor, decoder = (copy.deepcopy(module) for module in (agent.vae.encoder, agent.td3.actor, agent.vae.decoder))
    with_decoder = any(name.startswith("decoder.") for name in tensors)
    try:
        load_module("encoder", encoder, tensors)
        load_module("actor", actor, tensors)
        if with_decoder:
            load_module("decoder", decoder, tensors)
        prior, scene = agent.read_goal_tensors(tensors)
    except (RigError, KeyError, ValueError) as error:
        raise WeightsError(f"weights version {bundle.version} do not fit this policy: {error}") from error
    agent.vae.encoder, agent.vae.decoder, agent.td3.actor = encoder, decoder, actor
    agent.prior, agent.scene = prior, scene
    return with_decoder


def bundle_config(bundle: WeightsBundle) -> RigConfig:
    """The trainer's config a bundle carries; raise WeightsError if unreadable or an Oracle's."""
    try:
        config = RigConfig.from_dict(json.loads(bundle.config_json))
    except (json.JSONDecodeError, RigError) as error:
        raise WeightsError(f"weights version {bundle.version}: unreadable config_json: {error}") from error
    if config.oracle:
        raise WeightsError(f"weights version {bundle.version} are an Oracle's, which acts on true states")
    return config


def policy_agent(bundle: WeightsBundle) -> RIGAgent:
    """A fresh agent with a bundle's networks (state_dim matters only to the Oracle), checked as load_policy_weights does."""
    agent = RIGAgent(bundle_config(bundle), state_dim=0, action_dim=bundle.action_dim)
    load_policy_weights(agent, bundle)
    return agent
