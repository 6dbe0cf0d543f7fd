"""Realistic ways an operator's goal image differs from the clean render the benchmarks use.

Each perturbation takes the goal's clean model-size render (uint8 RGB), a larger render of the same goal (for a
goal taken at another resolution) and a per-goal random generator (for directions and noise), and returns the
image handed to the policy, of any size (the policy centre-crops and resizes it as it does every goal image).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

Perturbation = Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(image, 0, 255).round().astype(np.uint8)


def brightness(factor: float) -> Perturbation:
    """The room lit more or less brightly: every channel scaled."""
    return lambda image, _large, _rng: _to_uint8(image.astype(np.float32) * factor)


def contrast(factor: float) -> Perturbation:
    """Contrast changed about the image's mean (exposure/gain settings, diffuse vs direct light)."""
    def perturb(image: np.ndarray, _large: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
        pixels = image.astype(np.float32)
        return _to_uint8((pixels - pixels.mean()) * factor + pixels.mean())
    return perturb


def colour_temperature(red: float, blue: float) -> Perturbation:
    """Warmer (more red, less blue) or cooler light, or a white balance set differently."""
    gains = np.array([red, 1.0, blue], np.float32)
    return lambda image, _large, _rng: _to_uint8(image.astype(np.float32) * gains)


def _warp(image: np.ndarray, shift: np.ndarray, degrees: float) -> np.ndarray:
    centre = ((image.shape[1] - 1) / 2, (image.shape[0] - 1) / 2)
    matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    matrix[:, 2] += shift
    return cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REPLICATE)


def camera_shift(pixels: float) -> Perturbation:
    """The camera nudged: the image moved by `pixels` (model-size pixels) in a random direction."""
    def perturb(image: np.ndarray, _large: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        angle = rng.uniform(0, 2 * np.pi)
        return _warp(image, pixels * np.array([np.cos(angle), np.sin(angle)]), 0.0)
    return perturb


def camera_rotation(degrees: float) -> Perturbation:
    """The camera turned about its axis by `degrees`, either way."""
    return lambda image, _large, rng: _warp(image, np.zeros(2), degrees * rng.choice([-1.0, 1.0]))


def jpeg(quality: int) -> Perturbation:
    """Sent through JPEG at `quality`."""
    def perturb(image: np.ndarray, _large: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return perturb


def larger_image(_image: np.ndarray, large: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
    """Taken at a higher resolution (the policy downsizes it)."""
    return large


def sensor_noise(sigma: float) -> Perturbation:
    """Gaussian sensor noise of `sigma` levels."""
    return lambda image, _large, rng: _to_uint8(image + rng.normal(0.0, sigma, image.shape))


def combined(*steps: Perturbation) -> Perturbation:
    """Several at once, in order."""
    def perturb(image: np.ndarray, large: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for step in steps:
            image = step(image, large, rng)
        return image
    return perturb


def clean(image: np.ndarray, _large: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
    """The clean render."""
    return image


PERTURBATIONS: dict[str, Perturbation] = {
    "clean": clean,
    "25% darker": brightness(0.75),
    "40% darker": brightness(0.6),
    "25% brighter": brightness(1.25),
    "contrast x0.7": contrast(0.7),
    "contrast x1.3": contrast(1.3),
    "warm light": colour_temperature(1.12, 0.85),
    "cool light": colour_temperature(0.88, 1.12),
    "shifted 2 px": camera_shift(2.0),
    "shifted 4 px": camera_shift(4.0),
    "rotated 3 deg": camera_rotation(3.0),
    "JPEG q30": jpeg(30),
    "336x336": larger_image,
    "noise sigma 8": sensor_noise(8.0),
    "25% darker + shift 3 px + JPEG q50": combined(brightness(0.75), camera_shift(3.0), jpeg(50)),
}
"""The benchmark's rows, in order (factors as the issue describes: lights 25-40 %, a few pixels of camera)."""
