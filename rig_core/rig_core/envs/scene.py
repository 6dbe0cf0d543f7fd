"""The MuJoCo scene: metaworld's Sawyer (mocap-driven hand) on its table, with 0-2 pucks, and a fast
headless renderer (EGL; no shadows, reflections, skybox or multisampling: ~5 ms per 84x84 frame)."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path

import metaworld
import mujoco
import numpy as np

# metaworld's Sawyer scene with one puck ("obj") and the mocap weld on the hand; we edit it with MjSpec
# instead of shipping a copy of the model.
PUSH_SCENE = Path(metaworld.__file__).parent / "assets" / "sawyer_xyz" / "sawyer_push_v3.xml"
# The authors' puck radius and colour (multiworld `sawyer_push_and_reach_mocap_goal_hidden.xml`: radius 0.04, dark
# blue; the second puck green). Their half-height 0.015 is not kept: with it, reset knocks the puck off its start
# (metaworld's gripper is not theirs).
PUCK_RADIUS = 0.04
PUCK_HALF_HEIGHT = 0.02
PUCK_COLOURS = ((0.0, 0.27, 0.54, 1.0), (0.1, 0.55, 0.1, 1.0))
# The authors' pusher table top (the same file: a plain plane, rgba 0.93). On metaworld's wood neither a small red
# puck nor this one was learnt by the VAE (a linear probe found no puck in its latents after 50 epochs); on this
# table the latents located it within 10. The reacher keeps the wood its benchmarks were measured on.
PLAIN_TABLE_RGBA = (0.93, 0.93, 0.93, 1.0)


@dataclass(frozen=True)
class CameraSpec:
    """A free camera in mujoco-py terms: the authors' `sawyer_init_camera*` functions set exactly these."""

    lookat: tuple[float, float, float]
    distance: float
    elevation: float
    azimuth: float


@functools.cache
def build_model(puck_count: int, table_rgba: tuple[float, float, float, float] | None = None) -> mujoco.MjModel:
    """The Sawyer scene with `puck_count` (0-2) free-moving pucks named puck0, puck1, on metaworld's wooden
    table or, with `table_rgba`, on a plain one of that colour.

    Compiled once per process and shared (read-only) by every task instance: separately compiled but
    identical models were seen to make contact-rich rollouts differ in the last bits, which pushing
    amplifies; one shared model keeps every instance, and every process, on the same trajectory."""
    spec = mujoco.MjSpec.from_file(str(PUSH_SCENE))
    template = spec.geom("objGeom")
    # Copied before the body is detached: the detached geom's memory is not ours to read afterwards (it gave
    # garbage now and then, e.g. an invalid condim).
    contact = {name: copy.copy(getattr(template, name)) for name in ("solimp", "solref", "friction", "condim")}
    spec.detach_body(spec.body("obj"))
    for index in range(puck_count):
        body = spec.worldbody.add_body(name=f"puck{index}", pos=[0.0, 0.6, PUCK_HALF_HEIGHT])
        body.add_freejoint(name=f"puck{index}_joint")
        body.mass, body.inertia, body.ipos, body.explicitinertial = 0.75, [8.8e-4] * 3, [0.0, 0.0, 0.0], True
        geom = body.add_geom(name=f"puck{index}_geom", type=mujoco.mjtGeom.mjGEOM_CYLINDER)
        geom.size = [PUCK_RADIUS, PUCK_HALF_HEIGHT, 0.0]
        geom.rgba = PUCK_COLOURS[index]
        for attribute, value in contact.items():
            setattr(geom, attribute, value)
    if table_rgba is not None:
        table = spec.material("table_wood")
        table.textures = [""] * len(table.textures)
        table.rgba = list(table_rgba)
    model = spec.compile()
    model.site_rgba[:, 3] = 0.0  # hide metaworld's goal marker and debug sites: the goal is an image
    # The weld's reference pose as metaworld sets it (hand held at the mocap pose, no offset).
    model.eq_data[:] = np.array([0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 5.0])
    model.vis.quality.shadowsize = 0
    model.vis.quality.offsamples = 0
    return model


class SceneRenderer:
    """Renders RGB images of a model from one free camera."""

    def __init__(self, model: mujoco.MjModel, size: int, camera: CameraSpec) -> None:
        self._renderer = mujoco.Renderer(model, size, size)
        for flag in (mujoco.mjtRndFlag.mjRND_SHADOW, mujoco.mjtRndFlag.mjRND_REFLECTION, mujoco.mjtRndFlag.mjRND_SKYBOX):
            self._renderer.scene.flags[flag] = 0
        self._camera = mujoco.MjvCamera()
        self._camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        self._camera.lookat[:] = camera.lookat
        self._camera.distance = camera.distance
        self._camera.elevation = camera.elevation
        self._camera.azimuth = camera.azimuth

    def render(self, data: mujoco.MjData) -> np.ndarray:
        """(size, size, 3) uint8 RGB, row 0 at the top."""
        self._renderer.update_scene(data, self._camera)
        return self._renderer.render().copy()

    def close(self) -> None:
        """Release the GL context."""
        self._renderer.close()
