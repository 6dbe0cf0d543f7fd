"""The runtime-built DDS types serialise byte for byte like rosbags' ROS 2 CDR (the independent oracle), and
each side reads the other's bytes back to the same values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rosbags.interfaces import Nodetype

from rig_transport.dds_types import (
    PACKAGED_MSGS_DIR,
    MessageTypes,
    dds_type_name,
    default_types,
    find_rig_msgs_dir,
    load_typestore,
)

RIG_MSGS = sorted(f"rig_msgs/msg/{path.stem}" for path in find_rig_msgs_dir().glob("*.msg"))
PROJECT_TYPES = [
    "sensor_msgs/msg/Image",
    "geometry_msgs/msg/TwistStamped",
    "geometry_msgs/msg/PoseStamped",
    "std_msgs/msg/Header",
    "std_msgs/msg/String",
    "std_msgs/msg/Empty",
    "std_msgs/msg/Bool",
    "builtin_interfaces/msg/Time",
    *RIG_MSGS,
]
# `byte` is an octet in ROS 2 but signed in rosbags (ROS 1 heritage); both send one byte, so stay in 0..127.
INT_RANGES = {
    "int8": (-(2**7), 2**7), "uint8": (0, 2**8), "char": (0, 2**8), "byte": (0, 2**7),
    "int16": (-(2**15), 2**15), "uint16": (0, 2**16), "int32": (-(2**31), 2**31), "uint32": (0, 2**32),
    "int64": (-(2**63), 2**63), "uint64": (0, 2**64),
}  # fmt: skip
NUMPY_DTYPES = {"bool": np.bool_, "float32": np.float32, "float64": np.float64} | {
    name: np.dtype(name if name not in ("char", "byte") else "uint8") for name in INT_RANGES
}


@pytest.fixture(scope="module")
def types() -> MessageTypes:
    return default_types()


def test_project_types_include_every_rig_msgs_file():
    assert RIG_MSGS == [
        "rig_msgs/msg/DriverStatus", "rig_msgs/msg/EpisodeEvent", "rig_msgs/msg/ModelWeights", "rig_msgs/msg/PolicyStatus",
        "rig_msgs/msg/ReplayAck", "rig_msgs/msg/SimGoal", "rig_msgs/msg/SimTaskState", "rig_msgs/msg/TrainerStatus",
        "rig_msgs/msg/Transition",
    ]  # fmt: skip


class Values:
    """Non-trivial, exactly representable values for any message type, as rosbags objects."""

    def __init__(self, types: MessageTypes, seed: int) -> None:
        self.store = types.typestore
        self.rng = np.random.default_rng(seed)

    def message(self, type_name: str) -> Any:
        _, fields = self.store.fielddefs[type_name]
        return self.store.types[type_name](**{name: self.field(desc) for name, desc in fields})

    def field(self, desc: tuple[Any, Any]) -> Any:
        node, detail = desc
        if node == Nodetype.BASE:
            return self.scalar(*detail)
        if node == Nodetype.NAME:
            return self.message(detail)
        inner, size = detail
        length = size if node == Nodetype.ARRAY else int(self.rng.integers(1, 6)) if not size else min(size, 3)
        if inner[0] == Nodetype.BASE and inner[1][0] != "string":
            return np.array([self.scalar(*inner[1]) for _ in range(length)], dtype=NUMPY_DTYPES[inner[1][0]])
        return [self.field(inner) for _ in range(length)]

    def scalar(self, base: str, bound: int) -> Any:
        if base == "bool":
            return bool(self.rng.integers(0, 2))
        if base in INT_RANGES:
            low, high = INT_RANGES[base]
            return int(self.rng.integers(low, high, dtype=np.uint64 if base == "uint64" else np.int64))
        if base in ("float32", "float64"):
            return float(self.rng.integers(-4000, 4000)) / 8  # exact in float32
        text = f"näme-{int(self.rng.integers(0, 10**6))}"
        return text[:bound] if bound else text


def to_dds(types: MessageTypes, type_name: str, msg: Any) -> Any:
    """The DDS message with the values of a rosbags message."""
    _, fields = types.typestore.fielddefs[type_name]
    return types.new(type_name, **{name: dds_value(types, desc, getattr(msg, name)) for name, desc in fields})


def dds_value(types: MessageTypes, desc: tuple[Any, Any], value: Any) -> Any:
    node, detail = desc
    if node == Nodetype.NAME:
        return to_dds(types, detail, value)
    if node in (Nodetype.ARRAY, Nodetype.SEQUENCE) and detail[0][0] == Nodetype.NAME:
        return [to_dds(types, detail[0][1], item) for item in value]
    return value  # scalars as they are; numpy arrays are converted by MessageTypes.new


def plain(types: MessageTypes, type_name: str, msg: Any) -> dict[str, Any]:
    """Backend-independent form of a message: a dict of its .msg fields, arrays and bytes as lists."""
    _, fields = types.typestore.fielddefs[type_name]
    return {name: plain_value(types, desc, getattr(msg, name)) for name, desc in fields}


def plain_value(types: MessageTypes, desc: tuple[Any, Any], value: Any) -> Any:
    node, detail = desc
    if node == Nodetype.NAME:
        return plain(types, detail, value)
    if node in (Nodetype.ARRAY, Nodetype.SEQUENCE):
        return [plain_value(types, detail[0], item) for item in value]
    return value.item() if isinstance(value, np.generic) else value


@pytest.mark.parametrize("type_name", PROJECT_TYPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_dds_bytes_equal_rosbags_cdr_and_read_back(types, type_name, seed):
    expected = Values(types, seed).message(type_name)
    msg = to_dds(types, type_name, expected)
    wire = msg.serialize()
    oracle = bytes(types.typestore.serialize_cdr(expected, type_name))
    assert wire[:4] == b"\x00\x01\x00\x00"  # CDR_LE, i.e. XCDR1 plain CDR as rmw_cyclonedds expects
    assert wire == oracle
    assert plain(types, type_name, type(msg).deserialize(oracle)) == plain(types, type_name, expected)
    assert plain(types, type_name, types.typestore.deserialize_cdr(wire, type_name)) == plain(types, type_name, expected)


def test_every_jazzy_standard_type_builds_and_matches_rosbags(types):
    store = load_typestore()
    everything = MessageTypes(store)
    for type_name in sorted(store.fielddefs):
        expected = Values(everything, 3).message(type_name)
        assert to_dds(everything, type_name, expected).serialize() == bytes(store.serialize_cdr(expected, type_name)), (
            type_name
        )


def test_unset_fields_get_ros_defaults(types):
    info = types.new("sensor_msgs/msg/CameraInfo")
    assert (info.height, info.distortion_model, info.d, info.k) == (0, "", [], [0.0] * 9)
    assert (info.header.frame_id, info.header.stamp.sec, info.roi.do_rectify) == ("", 0, False)
    assert types.new("sensor_msgs/msg/Image").data == b""  # octet sequences are bytes (one copy each way)
    assert types.new("sensor_msgs/msg/CameraInfo").k is not info.k  # defaults are never shared


def test_classes_carry_ros_names_and_constants(types):
    cls = types.idl_class("rig_msgs/msg/EpisodeEvent")
    assert cls.__idl_typename__ == "rig_msgs::msg::dds_::EpisodeEvent_"
    assert (cls.RESET_REQUEST, cls.RESET_DONE) == (0, 1)
    assert types.idl_class("rig_msgs/msg/PolicyStatus").MODE_IDLE == "idle"
    assert types.idl_class("rig_msgs/msg/EpisodeEvent") is cls
    assert dds_type_name("sensor_msgs/msg/Image") == "sensor_msgs::msg::dds_::Image_"


def test_type_hash_is_the_ros2_jazzy_hash(types):
    # The value a ROS 2 Jazzy build reports for sensor_msgs/msg/Image (`ros2 interface` / rmw USER_DATA).
    assert (
        types.type_hash("sensor_msgs/msg/Image") == "RIHS01_d31d41a9a4c4bc8eae9be757b0beed306564f7526c88ea6a4588fb9582527d47"
    )
    assert types.type_hash("rig_msgs/msg/Transition").startswith("RIHS01_")


def test_unknown_type_and_bad_names_are_clear_errors(types):
    with pytest.raises(ValueError, match="unknown message type 'rig_msgs/msg/Nope'"):
        types.idl_class("rig_msgs/msg/Nope")
    with pytest.raises(ValueError, match="expected a ROS type name"):
        dds_type_name("sensor_msgs/Image")


def test_rig_msgs_dir_from_environment(monkeypatch, tmp_path: Path):
    (tmp_path / "Ping.msg").write_text("uint32 count\n")
    monkeypatch.setenv("RIG_MSGS_DIR", str(tmp_path))
    store = load_typestore(find_rig_msgs_dir())
    assert MessageTypes(store).new("rig_msgs/msg/Ping", count=3).serialize() == b"\x00\x01\x00\x00\x03\x00\x00\x00"
    monkeypatch.setenv("RIG_MSGS_DIR", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="RIG_MSGS_DIR"):
        find_rig_msgs_dir()


def test_the_package_carries_rig_msgs(monkeypatch):
    """Without RIG_MSGS_DIR the definitions are the package's own: its msg/rig_msgs is the repository's rig_msgs/msg
    (a link, so no copy can differ; the wheel's copy is checked in launch/test/test_wheel_install.py)."""
    monkeypatch.delenv("RIG_MSGS_DIR", raising=False)
    repository_msgs = Path(__file__).resolve().parents[2] / "rig_msgs" / "msg"
    assert find_rig_msgs_dir() == PACKAGED_MSGS_DIR and PACKAGED_MSGS_DIR.resolve() == repository_msgs
