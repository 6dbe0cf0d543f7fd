"""The optimizer every RIG network trains with."""

from __future__ import annotations

from collections.abc import Iterable

import torch

FUSED_DEVICES = ("cpu", "cuda")
"""Devices with torch's fused Adam kernel (torch >= 2.4 on CPU)."""


def adam(params: Iterable[torch.nn.Parameter], lr: float, device: torch.device) -> torch.optim.Adam:
    """Adam, fused into one kernel per step where torch has one for ``device``: the same update rule, but TD3's
    small networks spent most of an Adam step launching a handful of tiny kernels per tensor (profile:
    benchmarks/throughput.md)."""
    return torch.optim.Adam(params, lr=lr, fused=device.type in FUSED_DEVICES)
