"""Image-based Sawyer goal-reaching tasks with the Gymnasium API.

The hand is driven through metaworld's mocap weld: each step moves the mocap target by
`action * action_scale` in the plane, clipped to the hand box, at a fixed height, then simulates
`frame_skip` physics steps. Observations are RGB images only; `state()` (true hand and puck positions)
exists for evaluation and the Oracle baseline, never for the learner.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import mujoco
import numpy as np

from rig_core.envs.scene import PUCK_HALF_HEIGHT, CameraSpec, SceneRenderer, build_model

SETTLE_STEPS = 400  # physics steps (1 s) for the welded arm to follow a teleported mocap target
MOCAP_QUAT = np.array([1.0, 0.0, 1.0, 0.0])  # fingers pointing down, as metaworld holds the hand
# Arm joints (right_j0..j6) and fingers with the hand settled at (0, 0.6, 0.056): every episode starts from
# here. Starting the settle this close to equilibrium keeps it gentle; a settle from the model's default pose
# (the hand a metre away) is chaotic enough that MuJoCo's last-bit differences between model instances grow.
HOME_QPOS = np.array([1.8386, -0.4991, -0.7255, 1.7779, 1.0533, 0.7360, 2.2674, 0.0, -0.0005])
STATE_KIND = mujoco.mjtState.mjSTATE_INTEGRATION  # everything the integrator needs: time, qpos, qvel, mocap, ...
GRIPPER_CLOSED = np.array([0.0, 0.0])  # finger position targets at their closed limits (no force into the stops)


def parked_position(index: int) -> tuple[float, float]:
    """Where puck `index` waits while it is not in the scene: off to the side, out of the camera's view and the
    hand's reach."""
    return (0.5 + 0.1 * index, 0.9)


@dataclass(frozen=True)
class TaskSpec:
    """The geometry and timing of one task (the authors' values, RIG_REFERENCE.md §3)."""

    name: str
    horizon: int
    action_scale: float  # metres per step at |action| = 1
    frame_skip: int
    hand_z: float  # mocap height, held fixed
    hand_low: tuple[float, float]
    hand_high: tuple[float, float]
    hand_reset: tuple[float, float]
    reset_random_steps: int  # steps of one random Gaussian action after reset (the reacher's random start)
    puck_starts: tuple[tuple[float, float], ...]
    hand_goal_low: tuple[float, float]
    hand_goal_high: tuple[float, float]
    puck_goal_lows: tuple[tuple[float, float], ...]
    puck_goal_highs: tuple[tuple[float, float], ...]
    min_goal_separation: float  # resample goals whose hand/puck positions are closer than this
    camera: CameraSpec
    table_rgba: tuple[float, float, float, float] | None = None  # a plain table of this colour; None: metaworld's wood


class SawyerImageTask(gym.Env):
    """Reach goal images with a Sawyer hand (and push pucks): observation = RGB image, action = planar move."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, spec: TaskSpec, image_size: int = 84, seed: int | None = None) -> None:
        super().__init__()
        self.spec_ = spec
        self.name, self.horizon, self.image_size = spec.name, spec.horizon, image_size
        self.puck_count = len(spec.puck_starts)
        self.state_dim = 2 + 2 * self.puck_count
        self.observation_space = gym.spaces.Box(0, 255, (image_size, image_size, 3), np.uint8)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.render_mode = "rgb_array"
        self.model = build_model(self.puck_count, spec.table_rgba)
        self.data = mujoco.MjData(self.model)
        self._scratch = mujoco.MjData(self.model)  # where render_state builds other states' images
        self._renderer = SceneRenderer(self.model, image_size, spec.camera)
        self._hand = self.model.body("hand").id
        self._puck_qpos = [self.model.jnt_qposadr[self.model.joint(f"puck{i}_joint").id] for i in range(self.puck_count)]
        self._puck_dofs = [self.model.jnt_dofadr[self.model.joint(f"puck{i}_joint").id] for i in range(self.puck_count)]
        self.pucks_present = self.puck_count
        self._home = self._settled_home()
        self._goal_state = np.zeros(self.state_dim)
        self._goal_low = np.concatenate([spec.hand_goal_low, *spec.puck_goal_lows])  # the goal box, hand then pucks
        self._goal_high = np.concatenate([spec.hand_goal_high, *spec.puck_goal_highs])
        self._object_pairs = np.triu_indices(1 + self.puck_count, k=1)  # every pair of objects, for the separation
        self._t = 0
        if seed is not None:
            super().reset(seed=seed)

    # ----- Gymnasium API -------------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """New episode: hand to its reset pose, pucks to their starts, a new goal unless options["goal_state"]."""
        super().reset(seed=seed)
        start = self._without_absent_pucks(np.concatenate([self.spec_.hand_reset, *self.spec_.puck_starts]))
        self._teleport(self.data, start)
        if self.spec_.reset_random_steps:
            action = np.clip(self.np_random.standard_normal(2), -1.0, 1.0)
            for _ in range(self.spec_.reset_random_steps):
                self._move(action)
        goal = None if options is None else options.get("goal_state")
        self._goal_state = self.sample_goal_state(self.np_random) if goal is None else self._checked_state(goal)
        self._t = 0
        return self.render_image(), self._info()

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Move the hand target by action * scale (clipped to the box); reward 0: the learner computes its own."""
        self._move(np.clip(np.asarray(action, dtype=np.float64).reshape(2), -1.0, 1.0))
        self._t += 1
        return self.render_image(), 0.0, False, self._t >= self.horizon, self._info()

    def render(self) -> np.ndarray:
        return self.render_image()

    def close(self) -> None:
        self._renderer.close()

    # ----- state, goals, images --------------------------------------------------------------------------------
    @property
    def goal_state(self) -> np.ndarray:
        """The evaluation goal (true positions) that info distances refer to."""
        return self._goal_state.copy()

    def set_pucks_present(self, count: int) -> None:
        """Keep only the first `count` pucks in the scene and in goals (the variable-object test); the others
        are parked out of view (`parked_position`) and left out of the distances."""
        if not 0 <= count <= self.puck_count:
            raise ValueError(f"{self.name}: pucks present must be 0-{self.puck_count}, not {count}")
        self.pucks_present = count

    def set_goal_state(self, goal_state: np.ndarray) -> None:
        self._goal_state = self._checked_state(goal_state)

    def state(self) -> np.ndarray:
        """True positions: hand xy, then each puck's xy."""
        pucks = [self.data.qpos[address : address + 2] for address in self._puck_qpos]
        return np.concatenate([self.data.xpos[self._hand, :2], *pucks])

    def set_state(self, state: np.ndarray) -> None:
        """Teleport hand and pucks (pucks at rest on the table); used for VAE data and goal images."""
        self._teleport(self.data, self._checked_state(state))

    def sample_goal_state(self, rng: np.random.Generator) -> np.ndarray:
        """A goal from the task's goal distribution (rejection-sampled for the minimum separation)."""
        return self.sample_goal_states(rng, 1)[0]

    def sample_goal_states(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """`count` goals (count, state_dim), the same as `count` calls of `sample_goal_state` with `rng` draw, only
        in batches (the Oracle's relabelling asks for goals at every update). Each try takes one row of uniform
        numbers, in order; a round makes exactly as many tries as goals are missing, so no round draws past the
        try that completes the batch, and the generator ends where one-at-a-time draws leave it."""
        (first, second), separation = self._object_pairs, self.spec_.min_goal_separation
        goals = np.empty((0, self.state_dim))
        while len(goals) < count:
            tries = rng.uniform(self._goal_low, self._goal_high, size=(count - len(goals), self.state_dim))
            points = tries.reshape(len(tries), -1, 2)
            gaps = np.linalg.norm(points[:, first] - points[:, second], axis=-1)
            goals = np.concatenate([goals, tries[gaps.min(axis=1, initial=np.inf) >= separation]])
        return self._without_absent_pucks(goals)

    def hand_distance_floor(self, goal_state: np.ndarray) -> float:
        """The least final hand distance any controller can reach for this goal: its gap to the hand box
        (non-zero only where the goal range exceeds the reachable area, as on the reacher; trap 4)."""
        hand_goal = np.asarray(goal_state, dtype=np.float64)[:2]
        return float(np.linalg.norm(hand_goal - np.clip(hand_goal, self.spec_.hand_low, self.spec_.hand_high)))

    def render_image(self) -> np.ndarray:
        """The current camera image."""
        return self._renderer.render(self.data)

    def render_state(self, state: np.ndarray) -> np.ndarray:
        """The image of any state, built in a scratch copy: the running simulation is not touched."""
        self._teleport(self._scratch, self._checked_state(state))
        return self._renderer.render(self._scratch)

    def distances(self, state: np.ndarray, goal_state: np.ndarray) -> dict[str, float]:
        """True planar distances (m) of hand and pucks to the goal, and their sum (the paper's metric); pucks not
        present are left out."""
        gaps = np.linalg.norm((np.asarray(state) - np.asarray(goal_state)).reshape(-1, 2), axis=1)[: 1 + self.pucks_present]
        if self.puck_count == 0:
            return {"hand_distance": float(gaps[0])}
        if self.puck_count == 1:
            pucks = {"puck_distance": float(gaps[1])} if self.pucks_present else {}
            return {"hand_distance": float(gaps[0])} | pucks | {"hand_and_puck_distance": float(gaps.sum())}
        named = {"hand_distance": float(gaps[0])} | {f"puck{i + 1}_distance": float(g) for i, g in enumerate(gaps[1:])}
        return named | {"total_distance": float(gaps.sum())}

    # ----- internals -----------------------------------------------------------------------------------------
    def _info(self) -> dict:
        return self.distances(self.state(), self._goal_state)

    def _without_absent_pucks(self, state: np.ndarray) -> np.ndarray:
        """`state` (one, or a batch along its last axis) with every absent puck at its parking place."""
        for index in range(self.pucks_present, self.puck_count):
            state[..., 2 + 2 * index : 4 + 2 * index] = parked_position(index)
        return state

    def _checked_state(self, state: np.ndarray) -> np.ndarray:
        state = np.asarray(state, dtype=np.float64).reshape(-1)
        if state.shape != (self.state_dim,) or not np.all(np.isfinite(state)):
            raise ValueError(f"{self.name} states are {self.state_dim} finite numbers, got {state}")
        return state.copy()

    def _move(self, action: np.ndarray) -> None:
        target = self.data.mocap_pos[0, :2] + action * self.spec_.action_scale
        self.data.mocap_pos[0, :2] = np.clip(target, self.spec_.hand_low, self.spec_.hand_high)
        self._simulate(self.data, self.spec_.frame_skip)

    def _simulate(self, data: mujoco.MjData, steps: int) -> None:
        data.ctrl[:] = GRIPPER_CLOSED
        mujoco.mj_step(self.model, data, nstep=steps)
        mujoco.mj_forward(self.model, data)  # positions and images consistent with the final qpos

    def _settled_home(self) -> np.ndarray:
        """The arm settled with the hand at the centre of the workspace: every teleport starts from here."""
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[: len(HOME_QPOS)] = HOME_QPOS
        self.data.mocap_pos[0] = [0.0, 0.6, self.spec_.hand_z]
        self.data.mocap_quat[0] = MOCAP_QUAT
        self._park_pucks()
        self._simulate(self.data, SETTLE_STEPS)
        state = np.empty(mujoco.mj_stateSize(self.model, STATE_KIND))
        mujoco.mj_getState(self.model, self.data, state, STATE_KIND)
        return state

    def _park_pucks(self) -> None:
        """Put the pucks off to the side while the arm moves, so a teleport never drags them along."""
        for index, address in enumerate(self._puck_qpos):
            self.data.qpos[address : address + 7] = [*parked_position(index), PUCK_HALF_HEIGHT, 1, 0, 0, 0]

    def _teleport(self, data: mujoco.MjData, state: np.ndarray) -> None:
        """From the home pose, move the mocap target to the state's hand position and let the arm follow,
        then place the pucks at rest."""
        mujoco.mj_setState(self.model, data, self._home, STATE_KIND)
        data.mocap_pos[0] = [state[0], state[1], self.spec_.hand_z]
        data.mocap_quat[0] = MOCAP_QUAT
        self._simulate(data, SETTLE_STEPS)
        for index, (address, dof) in enumerate(zip(self._puck_qpos, self._puck_dofs)):
            x, y = state[2 + 2 * index : 4 + 2 * index]
            data.qpos[address : address + 7] = [x, y, PUCK_HALF_HEIGHT, 1, 0, 0, 0]
            data.qvel[dof : dof + 6] = 0.0
        self._simulate(data, 20)  # let contacts settle
