"""Load a trained agent (and its task) from a checkpoint, for evaluation and deployment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rig_core.agent import RIGAgent
from rig_core.checkpoint import load_checkpoint
from rig_core.envs import SawyerImageTask, make_task


def load_trained(checkpoint_dir: Path, device: str = "cpu") -> tuple[RIGAgent, SawyerImageTask, dict[str, Any]]:
    """The agent with its weights, a fresh instance of its task, and the checkpoint's saved state."""
    checkpoint = load_checkpoint(checkpoint_dir)
    config = checkpoint.config
    env = make_task(config.task, config.vae.image_size, config.seed)
    agent = RIGAgent(config, env.state_dim, env.action_space.shape[0], device)
    agent.load_tensors(checkpoint.tensors)
    return agent, env, checkpoint.state
