"""The policy node: topics, timers and parameters wired to a PolicyController (see README.md)."""

from __future__ import annotations

import math
import re
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rig_core.config import apply_overrides, task_config
from rig_core.envs.tasks import TASKS
from rig_core.errors import RigError
from rig_core.goal_preparation import PreparedGoal
from rig_core.weights import read_weights_file
from rig_policy_node.controller import Decision, PolicyController, TransitionRecord, action_to_velocity
from rig_policy_node.messages import bundle_from_msg, model_image, time_msg, transition_msg, twist_msg
from rig_policy_node.model_images import ModelImages
from rig_policy_node.outbox import Outbox
from rig_transport import COMMAND, LATCHED, REPLAY, SENSOR_DATA, STATUS, Transport, make_transport

NODE_NAME = "policy_node"
DEFAULTS: dict[str, Any] = {
    "robot_id": "sawyer_sim",
    "task": "visual-reacher",
    "image_size": 84,
    "rate_hz": 10.0,
    "explore": True,
    "status_rate_hz": 2.0,
    "weights_file": "",
    "spool_dir": "runs/spool",
    "spool_max_mb": 2048.0,
    "ack_timeout_s": 30.0,
    "resend_rate_hz": 50.0,
    "model_images_rate_hz": 1.0,
    "align_goal_images": True,
}
RESET_RETRY_S = 5.0
"""Ask again for a reset that has not been answered after this long (the driver may have started late)."""
TRAINER_GONE_S = 5.0
"""No trainer status for this long: the trainer is away, and nothing is re-sent until it is back."""


class PolicyNode:
    """Subscriptions, publishers and timers of one robot's policy."""

    def __init__(self, transport: Transport) -> None:
        self.transport, self.log = transport, transport.logger
        params = transport.declare_parameters(DEFAULTS)
        self.robot_id, self.rate_hz = str(params["robot_id"]), float(params["rate_hz"])
        self.image_size = int(params["image_size"])
        if self.rate_hz <= 0 or params["status_rate_hz"] <= 0:
            raise ValueError("rate_hz and status_rate_hz must be > 0")
        if self.image_size not in (48, 84):
            raise ValueError(f"image_size must be 48 or 84, got {self.image_size}")
        if min(params["spool_max_mb"], params["ack_timeout_s"], params["resend_rate_hz"]) <= 0:
            raise ValueError("spool_max_mb, ack_timeout_s and resend_rate_hz must be > 0")
        config = apply_overrides(task_config(params["task"]), [f"vae.image_size={self.image_size}"])
        spec = TASKS[config.task]
        self.action_scale = spec.action_scale
        self.controller = PolicyController(config, spec.horizon, bool(params["explore"]), np.random.default_rng(),
                                           align_goals=bool(params["align_goal_images"]))  # fmt: skip
        if params["weights_file"]:  # e.g. from `rig export`; a bad file stops the node with the reason (RigError)
            self.controller.load_weights(read_weights_file(Path(params["weights_file"])))
        self.session_id = uuid.uuid4().hex  # this run's transitions, told apart from an earlier run's
        spool = Path(params["spool_dir"]) / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', self.robot_id)}.sqlite"
        self.outbox = Outbox(spool, self.session_id, int(params["spool_max_mb"] * 2**20))
        self._ack_timeout_s = float(params["ack_timeout_s"])
        self._resend_per_tick = max(1, round(params["resend_rate_hz"] / self.rate_hz))
        self._trainer_seen_at = -math.inf
        self.last_error = ""
        self._last_error_stamp = transport.new("builtin_interfaces/msg/Time")
        self._goal_answer: tuple[Any, bool, str] = (transport.new("std_msgs/msg/Header"), False, "")  # header, taken, why not
        self._frame_error = ""
        self._reported_goal: PreparedGoal | None = None
        self._goal_alignment, self._goal_warning = "", ""
        self._frame_id = "rig_camera"
        self._frame_stamp = transport.now()
        self._reset_sent_at = 0.0
        event_cls = type(transport.new("rig_msgs/msg/EpisodeEvent"))
        self._reset_request, self._reset_done = event_cls.RESET_REQUEST, event_cls.RESET_DONE

        self._cmd = transport.create_publisher("/rig/cmd_ee_velocity", "geometry_msgs/msg/TwistStamped", COMMAND)
        self._transitions = transport.create_publisher("/rig/replay/transitions", "rig_msgs/msg/Transition", REPLAY)
        self._episode = transport.create_publisher("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS)
        self._status = transport.create_publisher("/rig/policy/status", "rig_msgs/msg/PolicyStatus", STATUS)
        images_hz = float(params["model_images_rate_hz"])  # 0: off, no image topics at all
        self._model_images = ModelImages(transport, self.controller, images_hz) if images_hz != 0 else None
        transport.create_subscription("/rig/camera/image_raw", "sensor_msgs/msg/Image", SENSOR_DATA, self._on_frame)
        transport.create_subscription("/rig/goal_image", "sensor_msgs/msg/Image", LATCHED, self._on_goal_image)
        transport.create_subscription("/rig/goal_image/clear", "std_msgs/msg/Header", STATUS, self._on_goal_clear)
        transport.create_subscription("/rig/goal_image/capture", "std_msgs/msg/Header", STATUS, self._on_goal_capture)
        transport.create_subscription("/rig/weights", "rig_msgs/msg/ModelWeights", LATCHED, self._on_weights)
        transport.create_subscription("/rig/episode", "rig_msgs/msg/EpisodeEvent", STATUS, self._on_episode_event)
        transport.create_subscription("/rig/replay/ack", "rig_msgs/msg/ReplayAck", REPLAY, self._on_ack)
        transport.create_subscription("/rig/trainer/status", "rig_msgs/msg/TrainerStatus", STATUS, self._on_trainer_status)
        transport.create_timer(1.0 / self.rate_hz, self._on_tick)
        transport.create_timer(1.0 / params["status_rate_hz"], self._publish_status)
        version = self.controller.weights_version
        weights = f"weights version {version} from {params['weights_file']}" if version else "random until weights arrive"
        mode = "exploring" if self.controller.explore else "greedy"
        self.log.info("robot %s, task %s, %dx%d images, %.1f Hz, %s; %s", self.robot_id, config.task, self.image_size,
                      self.image_size, self.rate_hz, mode, weights)  # fmt: skip
        self.log.info("replay spool %s (at most %.0f MB): %d unacknowledged transitions of %d episodes from earlier "
                      "runs (%d cut short, kept as shorter episodes), sent once the trainer is there", spool,
                      params["spool_max_mb"], self.outbox.transitions, self.outbox.episodes,
                      self.outbox.truncated)  # fmt: skip

    def _error(self, message: str) -> None:
        self.log.warning("%s", message)
        self.last_error, self._last_error_stamp = message, self.transport.now()

    # ----- subscriptions ---------------------------------------------------------------------------------
    def _on_frame(self, msg: Any) -> None:
        try:
            frame = model_image(msg, self.image_size)
        except ValueError as error:
            message = f"camera frame rejected: {error}"
            if message != self._frame_error:  # once per kind of problem, not at the camera's rate
                self._error(message)
            self._frame_error = message
            return
        self._frame_error = ""
        self._frame_id = str(msg.header.frame_id) or self._frame_id
        self._frame_stamp = msg.header.stamp
        self.controller.observe(frame, (int(msg.header.stamp.sec), int(msg.header.stamp.nanosec)))

    def _on_goal_image(self, msg: Any) -> None:
        def set_goal() -> None:
            self.controller.set_goal_image(model_image(msg, self.image_size))

        taken = f"operator goal image set ({msg.width}x{msg.height} {msg.encoding})"
        self._answer_goal(msg.header, set_goal, taken, "goal image rejected")

    def _on_goal_clear(self, msg: Any) -> None:
        self._answer_goal(msg, self.controller.clear_goal, "operator goal cleared: back to imagined goals", "")

    def _on_goal_capture(self, msg: Any) -> None:
        self._answer_goal(msg, self.controller.capture_goal, "operator goal set to the newest camera frame",
                          "goal capture failed")  # fmt: skip

    def _answer_goal(self, request: Any, take: Callable[[], None], taken: str, failed: str) -> None:
        """Take a goal request (``take`` raises ValueError to reject it) and publish the answer at once: the status
        echoes the request's header, so its sender knows it was this request that was taken or rejected. A request
        answered already (re-sent by its sender: the same non-zero stamp) is answered again, not taken twice."""
        key = _request_key(request)
        if key is None or key != _request_key(self._goal_answer[0]):
            try:
                take()
            except ValueError as error:
                self._error(f"{failed}: {error}")
                self._goal_answer = (request, False, f"{failed}: {error}")
            else:
                self.log.info("%s", taken)
                self._goal_answer = (request, True, "")
                if self.last_error.startswith("goal"):  # that problem is over: a goal was taken since
                    self.last_error, self._last_error_stamp = "", self.transport.new("builtin_interfaces/msg/Time")
        self._publish_status()

    def _on_weights(self, msg: Any) -> None:
        try:
            if self.controller.load_weights(bundle_from_msg(msg)):
                self.log.info("weights version %d loaded", self.controller.weights_version)
        except (RigError, ValueError) as error:
            self._error(f"weights rejected, keeping version {self.controller.weights_version}: {error}")

    def _on_ack(self, msg: Any) -> None:
        if msg.robot_id == self.robot_id and self.outbox.acknowledge(str(msg.session_id), int(msg.episode_id)):
            self.log.debug("episode %d of session %s stored by the trainer", msg.episode_id, msg.session_id)

    def _on_trainer_status(self, msg: Any) -> None:
        if time.monotonic() - self._trainer_seen_at >= TRAINER_GONE_S:  # the trainer is back (or here at last)
            self.outbox.all_due()
            if self.outbox.transitions:
                self.log.info("trainer there: sending the %d unacknowledged transitions of the spool again",
                              self.outbox.transitions)  # fmt: skip
        self._trainer_seen_at = time.monotonic()

    def _on_episode_event(self, msg: Any) -> None:
        if msg.event != self._reset_done or msg.robot_id != self.robot_id:
            return
        if self.controller.reset_done(int(msg.episode_id)):
            self.log.debug("reset after episode %d done; episode %d starts", msg.episode_id, self.controller.episode_id)

    # ----- timers ----------------------------------------------------------------------------------------
    def _on_tick(self) -> None:
        decision: Decision = self.controller.tick()
        if decision.action is not None:
            self._command(decision.action)
        if decision.transition is not None:
            self._send(decision.transition)
        if time.monotonic() - self._trainer_seen_at < TRAINER_GONE_S:
            for item in self.outbox.resend(self._resend_per_tick, time.monotonic(), self._ack_timeout_s):
                self._transitions.publish(self._transition_msg(item.record, item.session_id, *item.stamp, item.frame_id))
        if decision.reset_request is not None:
            self._request_reset()
        elif self.controller.resetting and time.monotonic() - self._reset_sent_at > RESET_RETRY_S:
            self.log.warning("no RESET_DONE for episode %d yet; asking again", self.controller.episode_id)
            self._request_reset()
        if self.controller.prepared_goal is not self._reported_goal:
            self._report_goal(self.controller.prepared_goal)
        if decision.action is not None and self._model_images is not None:
            # After the command, on a tick that took a new frame: the next frame is a camera period away.
            self._model_images.publish_if_due(self._frame_stamp, self._frame_id)

    def _report_goal(self, prepared: PreparedGoal | None) -> None:
        """Tell the operator, once per prepared goal, what alignment did and whether the goal looks unfamiliar."""
        self._reported_goal = prepared
        self._goal_alignment = "" if prepared is None else prepared.alignment.summary()
        self._goal_warning = "" if prepared is None else prepared.warning()
        if prepared is not None:
            self.log.info("%s", self._goal_alignment)
            if self._goal_warning:
                self.log.warning("%s", self._goal_warning)
        self._publish_status()

    def _send(self, record: TransitionRecord) -> None:
        """Spool a new transition (first: it then survives a crash right after it is sent), then send it."""
        stamp = self.transport.now()
        try:
            dropped = self.outbox.add(record, (stamp.sec, stamp.nanosec), self._frame_id, time.monotonic())
        except sqlite3.Error as error:  # e.g. a full disk: sent, but not kept for re-sending
            self._error(f"replay spool {self.outbox.path}: {error}; episode {record.episode_id} may be lost")
        else:
            if dropped:
                self._error(f"replay spool full ({self.outbox.max_bytes / 2**20:.0f} MB): dropped the oldest "
                            f"unacknowledged episode ({dropped} transitions; {self.outbox.dropped} this run)")  # fmt: skip
        self._transitions.publish(self._transition_msg(record, self.session_id, stamp.sec, stamp.nanosec, self._frame_id))

    def _transition_msg(self, record: TransitionRecord, session_id: str, sec: int, nanosec: int, frame_id: str) -> Any:
        return transition_msg(self.transport, record, self.robot_id, session_id, time_msg(self.transport, (sec, nanosec)),
                              frame_id)  # fmt: skip

    def _request_reset(self) -> None:
        self._reset_sent_at = time.monotonic()
        header = self.transport.new("std_msgs/msg/Header", stamp=self.transport.now())
        request = self.transport.new("rig_msgs/msg/EpisodeEvent", header=header, robot_id=self.robot_id,
                                     episode_id=self.controller.episode_id, event=self._reset_request)  # fmt: skip
        self._episode.publish(request)

    def _command(self, action: np.ndarray) -> None:
        """Stamped with the camera frame the action answers (actions are only taken on the newest, new frame),
        so a driver or a benchmark reads the camera-to-command latency as now - stamp."""
        velocity = action_to_velocity(action, self.action_scale, self.rate_hz)
        self._cmd.publish(twist_msg(self.transport, velocity, self._frame_stamp))

    def _publish_status(self) -> None:
        controller = self.controller
        header = self.transport.new("std_msgs/msg/Header", stamp=self.transport.now())
        self._status.publish(self.transport.new(
            "rig_msgs/msg/PolicyStatus", header=header, robot_id=self.robot_id, mode=controller.mode.value,
            weights_version=controller.weights_version, latent_distance_to_goal=controller.latent_distance,
            episode_id=controller.episode_id, step=controller.step, last_error=self.last_error,
            last_error_stamp=self._last_error_stamp, goal_request=self._goal_answer[0], goal_accepted=self._goal_answer[1],
            goal_rejection=self._goal_answer[2], goal_alignment=self._goal_alignment, goal_warning=self._goal_warning,
        ))  # fmt: skip


def _request_key(header: Any) -> tuple[int, int, str] | None:
    """What identifies a goal request: its header's stamp and frame_id (None for a zero stamp: not identifiable)."""
    stamp = header.stamp
    return None if (stamp.sec, stamp.nanosec) == (0, 0) else (int(stamp.sec), int(stamp.nanosec), str(header.frame_id))


def main(argv: Sequence[str] | None = None) -> int:
    """Console script ``rig_policy_node [--ros-args ...]``: spin until SIGINT/SIGTERM."""
    try:
        transport = make_transport(NODE_NAME, argv=sys.argv if argv is None else argv)
    except ValueError as error:  # a malformed --ros-args section
        print(f"{NODE_NAME}: {error}", file=sys.stderr)
        return 1
    try:
        PolicyNode(transport)
        transport.spin()
    except (RigError, ValueError) as error:  # bad parameters
        transport.logger.error("%s", error)
        return 1
    finally:
        transport.shutdown()
    return 0
