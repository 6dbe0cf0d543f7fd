"""HER on pixels: the conv encoder that lets TD3's networks act on raw uint8 images (the paper's HER baseline).

Each of TD3's networks (actor, two critics, and so their targets) gets its own encoder, the VAE encoder's conv
stack without batch normalisation (target networks and single-image acting make batch statistics a trap); the
critics' encoders learn from the critic loss, the actor's from the actor loss through the critic, end to end.
The observation and the goal image go through the same encoder of a network.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from rig_core.vae import conv_trunk, images_to_tensor


class PixelEncoder(nn.Module):
    """uint8 (N, H, W, 3) images -> (N, out_features) conv features of the [0, 1] images."""

    def __init__(self, image_size: int) -> None:
        super().__init__()
        self.trunk, self.out_features = conv_trunk(image_size, batch_norm=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.trunk(images_to_tensor(images, images.device))


def pixel_distance_reward(next_images: np.ndarray, goal_images: np.ndarray) -> np.ndarray:
    """HER on pixels' reward: minus the Euclidean distance between the next image and the goal image, both uint8
    (N, H, W, 3) scaled to [0, 1], over every pixel and channel."""
    difference = (next_images.astype(np.float32) - goal_images.astype(np.float32)) / 255.0
    return -np.linalg.norm(difference.reshape(len(difference), -1), axis=1).astype(np.float32)
