"""Bring an operator's goal image to the live camera's geometry and colours before the VAE sees it.

A goal image taken under other lights, through a nudged camera mount, differs from every frame the VAE was trained
on, and its latent lands far from where the goal really is. The scene's static part (what the arm never covers) is
the same in the goal and in the live frame, so the live frame is a reference for both corrections:

* geometry: a Euclidean warp (shift + rotation) from OpenCV's ECC alignment over the static pixels only (the arm
  covers much of the image; with it, ECC locks onto the arm), which maximises a correlation coefficient and so is
  itself blind to brightness and contrast;
* colour: a gain and an offset per channel, fitted from goal to live frame by least squares over the static pixels
  (iteratively dropping those far off the fit).

The static pixels come from the VAE itself (`static_mask`: where decoded imagined goals never vary), so they travel
with the weights. Corrections too small to matter leave the goal untouched: a clean goal image passes byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MIN_SHIFT_PX = 0.3
"""Warps that move no pixel by more than this are not applied (a clean goal stays exact)."""
MAX_SHIFT_FRACTION = 0.12
"""As a fraction of the image side: larger warps are not trusted (ECC then locked onto the arm, not the scene)."""
MIN_GAIN_CHANGE, MIN_OFFSET_CHANGE = 0.03, 3.0
"""Colour fits closer to identity than this (gain, offset in 0-255 levels) are not applied."""
STATIC_MAX_STD, STATIC_MARGIN_PX = 4.0, 2
"""Static pixels: grey-level std under this over decoded scenes, and this far from any that move."""
MIN_STATIC_SHARE = 0.05
"""Under this share of static pixels, no geometric correction (too little of the scene to align on)."""
MIN_WARP_IMPROVEMENT, MIN_COLOUR_IMPROVEMENT = 0.25, 0.7
"""A warp (a recolouring) is applied only if it cuts the static pixels' mismatch to the live frame to under this share
of what it was. Measured on 20 in-reach goals: a moved camera's warp cuts it to 0.00-0.11 (10th-90th percentile),
the sub-pixel warp ECC fits to a goal taken at another resolution only to 0.36-0.38, to JPEG or noise to 0.94-1.0."""
PLAUSIBLE_GAINS = (0.4, 2.5)
"""Colour gains outside this range are not lighting: the colour fit is then not applied."""
FIT_ROUNDS = 3
"""Least-squares rounds of the colour fit, each dropping pixels whose residual is over 3 robust deviations."""


@dataclass(frozen=True)
class GoalAlignment:
    """What was done to a goal image: the warp's largest pixel displacement, its rotation, the colour fit."""

    shift_px: float
    rotation_deg: float
    gains: tuple[float, float, float]
    offsets: tuple[float, float, float]
    warped: bool
    recoloured: bool

    def summary(self) -> str:
        """One line for the policy's status and log."""
        parts = []
        if self.warped:
            parts.append(f"shifted {self.shift_px:.1f} px, rotated {self.rotation_deg:.1f} deg")
        if self.recoloured:
            gains = "/".join(f"{gain:.2f}" for gain in self.gains)
            parts.append(f"colour gains {gains} (R/G/B)")
        return "goal image aligned to the camera: " + "; ".join(parts) if parts else "goal image matches the camera"


def static_mask(decoded: np.ndarray, max_std: float = STATIC_MAX_STD, margin: int = STATIC_MARGIN_PX) -> np.ndarray:
    """The pixels (uint8 H x W, 1 = static) whose grey level varies by less than `max_std` over `decoded` images
    (N, H, W, 3) of the scene (e.g. the VAE's decoded imagined goals), `margin` pixels in from anything that moves."""
    grey = decoded.astype(np.float32).mean(axis=-1)
    static = (grey.std(axis=0) < max_std).astype(np.uint8)
    return cv2.erode(static, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8))


def align_goal(goal: np.ndarray, live: np.ndarray, static: np.ndarray | None) -> tuple[np.ndarray, GoalAlignment]:
    """The goal image (uint8 RGB, the live frame's size) warped and recoloured to match the live frame, using the
    `static` pixels (`static_mask`; None: no geometric correction, colours fitted over every pixel)."""
    if goal.shape != live.shape or goal.ndim != 3 or goal.shape[2] != 3:
        raise ValueError(f"goal {goal.shape} and live frame {live.shape} must be (H, W, 3) of one size")
    if static is not None and static.shape != goal.shape[:2]:
        raise ValueError(f"static mask {static.shape} does not fit images {goal.shape[:2]}")
    enough = static is not None and static.mean() >= MIN_STATIC_SHARE
    where = static.astype(bool) if enough else np.ones(goal.shape[:2], bool)
    warp, shift, rotation = _euclidean_warp(goal, live, static) if enough else (None, 0.0, 0.0)
    if warp is not None:
        moved = cv2.warpAffine(goal, warp, (goal.shape[1], goal.shape[0]), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        if _mismatch(moved, live, where) < MIN_WARP_IMPROVEMENT * _mismatch(goal, live, where):
            goal = moved
        else:
            warp = None
    warped = warp is not None
    gains, offsets = _colour_fit(goal, live, where)
    recoloured = bool(np.any(np.abs(gains - 1.0) > MIN_GAIN_CHANGE) or np.any(np.abs(offsets) > MIN_OFFSET_CHANGE))
    if recoloured:
        recolour = np.clip(goal.astype(np.float32) * gains + offsets, 0, 255).round().astype(np.uint8)
        recoloured = _colour_error(recolour, live, where) < MIN_COLOUR_IMPROVEMENT * _colour_error(goal, live, where)
        goal = recolour if recoloured else goal
    report = GoalAlignment(shift, rotation, tuple(gains.round(3).tolist()), tuple(offsets.round(2).tolist()),
                           warped, recoloured)  # fmt: skip
    return goal, report


def _euclidean_warp(goal: np.ndarray, live: np.ndarray, static: np.ndarray) -> tuple[np.ndarray | None, float, float]:
    """ECC's 2x3 warp taking goal-image coordinates to live-frame ones (fitted on the live frame's static pixels),
    or None where it is negligible, implausibly large or did not converge; with its largest displacement (px) and
    rotation (degrees)."""
    template, moving = (cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) for image in (goal, live))
    warp = np.eye(2, 3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 200, 1e-6)
    try:
        _, warp = cv2.findTransformECC(template, moving, warp, cv2.MOTION_EUCLIDEAN, criteria, static, 1)  # no blur:
        # smoothing would bleed the arm's edges into the static pixels (measured: 3x the latent error after a 2 px shift)
    except cv2.error:  # no convergence (e.g. a uniform image): leave the geometry alone
        return None, 0.0, 0.0
    height, width = goal.shape[:2]
    corners = np.array([[0, 0, 1], [width - 1, 0, 1], [0, height - 1, 1], [width - 1, height - 1, 1]], np.float32)
    shift = float(np.max(np.linalg.norm(corners @ warp.T - corners[:, :2], axis=1)))
    rotation = float(np.degrees(np.arctan2(warp[1, 0], warp[0, 0])))
    if shift < MIN_SHIFT_PX or shift > MAX_SHIFT_FRACTION * max(height, width):
        return None, shift, rotation
    return warp, shift, rotation


def _blurred(image: np.ndarray) -> np.ndarray:
    """Smoothed, so that sensor noise and JPEG blocks do not count as misalignment or colour change."""
    return cv2.GaussianBlur(image.astype(np.float32), (5, 5), 0)


def _mismatch(goal: np.ndarray, live: np.ndarray, where: np.ndarray) -> float:
    """1 - the correlation of the two (smoothed, grey) images over the pixels `where`: blind to brightness and
    contrast, like ECC."""
    grey = [_blurred(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))[where] for image in (goal, live)]
    return 1.0 - float(np.corrcoef(grey[0], grey[1])[0, 1])


def _colour_error(goal: np.ndarray, live: np.ndarray, where: np.ndarray) -> float:
    """Mean absolute difference of the two (smoothed) images over the pixels `where`."""
    return float(np.mean(np.abs(_blurred(goal) - _blurred(live))[where]))


def _colour_fit(goal: np.ndarray, live: np.ndarray, where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel gain and offset taking the goal's colours to the live frame's, over the pixels `where` that agree
    (not clipped in the goal and, after the first round, not far off the fit), both smoothed against noise."""
    gains, offsets = np.ones(3), np.zeros(3)
    smooth = _blurred(goal), _blurred(live)
    for channel in range(3):
        x, y = (image[..., channel][where].astype(np.float64) for image in smooth)
        keep = (x > 0) & (x < 255)
        for _ in range(FIT_ROUNDS):
            if keep.sum() < 0.2 * x.size or np.ptp(x[keep]) < 8:  # too little left to fit: keep the identity
                break
            gain, offset = np.polyfit(x[keep], y[keep], 1)
            residual = np.abs(gain * x + offset - y)
            keep &= residual < 3 * (1.4826 * np.median(residual[keep]) + 1.0)
        else:
            if PLAUSIBLE_GAINS[0] <= gain <= PLAUSIBLE_GAINS[1]:  # else not a change of light: another scene
                gains[channel], offsets[channel] = gain, offset
    return gains.astype(np.float32), offsets.astype(np.float32)
