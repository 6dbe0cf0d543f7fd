"""Goal images aligned to the live camera: real MuJoCo renders of the Visual Reacher, real OpenCV."""

import cv2
import numpy as np
import pytest

from rig_core.envs import make_task
from rig_core.goal_alignment import align_goal, static_mask
from rig_core.images import to_model_input


@pytest.fixture(scope="module")
def scene():
    """The static pixels from renders of the arm all over its reach and at its reset poses (what the VAE trains on),
    and (live frame after a reset, clean goal, the goal rendered at 336x336 and downsized) triples."""
    env = make_task("visual-reacher", image_size=84, seed=0)
    rng = np.random.default_rng(0)
    renders = [env.render_state(env.sample_goal_state(rng)) for _ in range(300)]
    static = static_mask(np.stack(renders + [env.reset(seed=seed)[0] for seed in range(100, 130)]))
    pairs, large = [], make_task("visual-reacher", image_size=336, seed=0)
    for seed in range(6):
        live, _ = env.reset(seed=seed)
        goal_state = env.sample_goal_state(rng)
        pairs.append((live, env.render_state(goal_state), to_model_input(large.render_state(goal_state), 84)))
    env.close()
    large.close()
    return static, pairs


def error(image, reference):
    return float(np.abs(image.astype(np.int16) - reference).mean())


def shifted(image, dx, dy):
    return cv2.warpAffine(image, np.float32([[1, 0, dx], [0, 1, dy]]), (84, 84), borderMode=cv2.BORDER_REPLICATE)


def test_static_pixels_are_where_the_arm_never_goes(scene):
    static, pairs = scene
    assert 0.2 < static.mean() < 0.8  # the arm covers much of the image, the wall and table corners stay
    for live, goal, _ in pairs:  # where the arm differs between two poses is (but for a rare pose's edge) not static
        moved = np.abs(live.astype(np.int16) - goal).max(axis=-1) > 30
        assert moved.sum() > 100 and (static.astype(bool) & moved).sum() < 0.01 * static.sum()


def test_a_clean_goal_passes_byte_for_byte(scene):
    static, pairs = scene
    for live, goal, _ in pairs:
        aligned, report = align_goal(goal, live, static)
        np.testing.assert_array_equal(aligned, goal)
        assert not report.warped and not report.recoloured and report.summary() == "goal image matches the camera"


@pytest.mark.parametrize("gains", [(0.75, 0.75, 0.75), (0.6, 0.6, 0.6), (1.25, 1.25, 1.25), (1.12, 1.0, 0.85)])
def test_other_lighting_is_undone(scene, gains):
    static, pairs = scene
    for live, goal, _ in pairs:
        lit = np.clip(goal * np.float32(gains), 0, 255).round().astype(np.uint8)
        aligned, report = align_goal(lit, live, static)
        assert report.recoloured and not report.warped
        np.testing.assert_allclose(report.gains, 1 / np.float32(gains), rtol=0.05)
        assert error(aligned, goal) < 1.0 < 5.0 < error(lit, goal)


def test_a_nudged_camera_is_undone(scene):
    static, pairs = scene
    for live, goal, _ in pairs:
        nudged = shifted(goal, 3.0, -1.0)
        aligned, report = align_goal(nudged, live, static)
        assert report.warped and abs(report.shift_px - np.hypot(3, 1)) < 1.0
        assert error(aligned, goal) < 0.6 * error(nudged, goal)


def test_noise_and_jpeg_are_not_mistaken_for_a_moved_camera(scene):
    static, pairs = scene
    rng = np.random.default_rng(1)
    for live, goal, _ in pairs:
        noisy = np.clip(goal + rng.normal(0, 8, goal.shape), 0, 255).round().astype(np.uint8)
        _, data = cv2.imencode(".jpg", goal, [cv2.IMWRITE_JPEG_QUALITY, 30])
        for image in (noisy, cv2.imdecode(data, cv2.IMREAD_COLOR)):
            aligned, report = align_goal(image, live, static)
            assert not report.warped  # (JPEG's colour shifts may be fitted back: never further from the clean goal)
            assert error(aligned, goal) <= error(image, goal) + 0.1


def test_a_goal_taken_at_another_resolution_is_not_warped(scene):
    static, pairs = scene
    for live, goal, downsized in pairs:  # ECC fits it a sub-pixel shift that does not pay: the warp would blur it
        aligned, report = align_goal(downsized, live, static)
        assert not report.warped and error(aligned, goal) <= error(downsized, goal) + 0.1


def test_without_static_pixels_only_colours_are_fitted(scene):
    _, pairs = scene
    live, goal, _ = pairs[0]
    darker = (goal * np.float32(0.75)).round().astype(np.uint8)
    aligned, report = align_goal(shifted(darker, 3.0, 0.0), live, None)
    assert not report.warped and report.recoloured and report.gains[0] > 1.2


def test_images_of_other_sizes_are_refused(scene):
    static, pairs = scene
    live, goal, _ = pairs[0]
    with pytest.raises(ValueError, match="one size"):
        align_goal(goal[:48, :48], live, static)
    with pytest.raises(ValueError, match="static mask"):
        align_goal(goal, live, static[:48, :48])
