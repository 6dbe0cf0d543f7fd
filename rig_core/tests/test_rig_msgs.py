"""rig_msgs: the .msg files parse with rosbags' ROS 2 Jazzy typestore, every message survives a CDR
round trip with its values intact, and the package files list every message and dependency."""

import re
from dataclasses import fields, is_dataclass
from pathlib import Path

import numpy as np
import pytest
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

PACKAGE = Path(__file__).parents[2] / "rig_msgs"
MSG_DIR = PACKAGE / "msg"
NAMES = (
    "DriverStatus", "EpisodeEvent", "ModelWeights", "PolicyStatus", "ReplayAck", "SimGoal", "SimTaskState", "TrainerStatus",
    "Transition",
)  # fmt: skip


@pytest.fixture(scope="module")
def store():
    typestore = get_typestore(Stores.ROS2_JAZZY)
    types = {}
    for path in sorted(MSG_DIR.glob("*.msg")):
        types.update(get_types_from_msg(path.read_text(), f"rig_msgs/msg/{path.stem}"))
    typestore.register(types)
    return typestore


def header(store, sec=1_700_000_000, frame_id="rig_camera"):
    return store.types["std_msgs/msg/Header"](
        stamp=store.types["builtin_interfaces/msg/Time"](sec=sec, nanosec=123_456_789), frame_id=frame_id
    )


def image(store, seed):
    data = np.random.default_rng(seed).integers(0, 256, 84 * 84 * 3, dtype=np.uint8)
    return store.types["sensor_msgs/msg/Image"](
        header=header(store, frame_id="cam"), height=84, width=84, encoding="rgb8", is_bigendian=0, step=84 * 3, data=data
    )


def examples(store):
    t = store.types
    return {
        "Transition": t["rig_msgs/msg/Transition"](
            header=header(store), robot_id="sawyer_1", session_id="5f0c2a9e", episode_id=2**40 + 7, step=49,
            observation=image(store, 0),
            action=np.array([0.5, -1.0, 0.25], np.float32), next_observation=image(store, 1),
            goal_latent=np.linspace(-2, 2, 16, dtype=np.float32), episode_end=True, weights_version=12,
        ),
        "ReplayAck": t["rig_msgs/msg/ReplayAck"](
            header=header(store), robot_id="sawyer_1", session_id="5f0c2a9e", episode_id=2**40 + 7, transitions=50,
            duplicate=True,
        ),
        "ModelWeights": t["rig_msgs/msg/ModelWeights"](
            header=header(store), format="rig-weights/1 safetensors", version=3, sha256="ab" * 32, task="visual-reacher",
            image_size=84, latent_dim=16, action_dim=3, config_json='{"vae": {"latent_dim": 16}}',
            data=np.frombuffer(bytes(range(256)) * 5, np.uint8),
        ),
        "PolicyStatus": t["rig_msgs/msg/PolicyStatus"](
            header=header(store), robot_id="sawyer_1", mode=t["rig_msgs/msg/PolicyStatus"].MODE_OPERATOR_GOAL,
            weights_version=12, latent_distance_to_goal=1.75, episode_id=8, step=3, last_error="goal image is 10x10 mono16",
            last_error_stamp=t["builtin_interfaces/msg/Time"](sec=1_700_000_001, nanosec=5),
            goal_request=header(store, frame_id="operator"), goal_accepted=False,
            goal_rejection="goal image rejected: unsupported image encoding",
            goal_alignment="goal image aligned to the camera: shifted 2.1 px, rotated 0.3 deg",
            goal_warning="goal image looks unlike the VAE's training images",
        ),
        "TrainerStatus": t["rig_msgs/msg/TrainerStatus"](
            header=header(store), transitions_received=10_000, replay_size=9_950, gradient_steps=50_000, vae_steps=2_000,
            weights_version=12, critic_loss=0.125, actor_loss=-3.5, vae_loss=412.25, last_error="",
        ),
        "SimGoal": t["rig_msgs/msg/SimGoal"](
            header=header(store), goal_state=np.array([0.1, 0.6, -0.05, 0.55]), publish_goal_image=True
        ),
        "SimTaskState": t["rig_msgs/msg/SimTaskState"](
            header=header(store), robot_id="sawyer_sim", episode_id=3, step=17, state=np.array([0.01, 0.62]),
            goal_state=np.array([0.1, 0.6]), distance_names=["hand_distance"], distances=np.array([0.092]),
        ),
        "EpisodeEvent": t["rig_msgs/msg/EpisodeEvent"](
            header=header(store), robot_id="sawyer_1", episode_id=8, event=t["rig_msgs/msg/EpisodeEvent"].RESET_DONE
        ),
        "DriverStatus": t["rig_msgs/msg/DriverStatus"](
            header=header(store), robot_id="sawyer_1", mode="ready", hold="watchdog", robot_enabled=True,
            robot_stopped=False, robot_error=False, operator_stopped=True, commands_accepted=2**33, commands_rejected=5,
            watchdog_stops=2, box_cuts=40, speed_clamps=3, joint_margin_stops=1, singularity_slowdowns=7,
            singularity_stops=0, condition_number=8.5, command_rate_hz=99.5,
            hand_pose=t["geometry_msgs/msg/Pose"](
                position=t["geometry_msgs/msg/Point"](x=0.45, y=0.16, z=0.22),
                orientation=t["geometry_msgs/msg/Quaternion"](x=0.7071, y=0.7071, z=0.0, w=0.0),
            ),
            last_error="10:02:03 rejected a velocity command: non-finite values",
        ),
    }  # fmt: skip


def assert_same(expected, actual, path="msg"):
    if is_dataclass(expected):
        assert type(actual).__name__ == type(expected).__name__, path
        for field in fields(expected):
            assert_same(getattr(expected, field.name), getattr(actual, field.name), f"{path}.{field.name}")
    elif isinstance(expected, np.ndarray):
        assert actual.dtype == expected.dtype and np.array_equal(actual, expected), path
    else:
        assert type(actual) is type(expected) and actual == expected, path


def test_every_message_file_is_known_and_parses(store):
    assert tuple(sorted(path.stem for path in MSG_DIR.glob("*.msg"))) == NAMES
    for name in NAMES:
        assert store.hash_rihs01(f"rig_msgs/msg/{name}").startswith("RIHS01_")


@pytest.mark.parametrize("name", NAMES)
def test_cdr_round_trip_keeps_every_value(store, name):
    message = examples(store)[name]
    raw = store.serialize_cdr(message, f"rig_msgs/msg/{name}")
    assert bytes(raw[:4]) == b"\x00\x01\x00\x00"  # plain little-endian CDR, as rmw_cyclonedds expects
    assert_same(message, store.deserialize_cdr(raw, f"rig_msgs/msg/{name}"))


def test_constants(store):
    status, event = store.types["rig_msgs/msg/PolicyStatus"], store.types["rig_msgs/msg/EpisodeEvent"]
    modes = (status.MODE_IMAGINED_GOAL, status.MODE_OPERATOR_GOAL, status.MODE_IDLE)
    assert modes == ("imagined_goal", "operator_goal", "idle")
    assert (event.RESET_REQUEST, event.RESET_DONE) == (0, 1)


def test_every_field_is_commented():
    for path in MSG_DIR.glob("*.msg"):
        lines = path.read_text().splitlines()
        for previous, line in zip([""] + lines, lines):
            if line.strip() and not line.startswith("#"):
                assert "#" in line or previous.startswith("#"), f"{path.name}: uncommented line {line!r}"


def test_package_files_list_every_message_and_dependency():
    cmake, package_xml = (PACKAGE / "CMakeLists.txt").read_text(), (PACKAGE / "package.xml").read_text()
    assert sorted(re.findall(r'"msg/(\w+)\.msg"', cmake)) == list(NAMES)
    dependencies = set(re.search(r"DEPENDENCIES([\s\w]+)\)", cmake).group(1).split())
    used = {m for path in MSG_DIR.glob("*.msg") for m in re.findall(r"^(\w+)/\w+", path.read_text(), re.MULTILINE)}
    assert used <= dependencies, used - dependencies
    for dependency in dependencies:
        assert f"<depend>{dependency}</depend>" in package_xml
    assert "<member_of_group>rosidl_interface_packages</member_of_group>" in package_xml
