"""Cyclone DDS message classes built at runtime from ROS 2 message definitions.

Standard types come from rosbags' ROS 2 Jazzy typestore and the project's own from the ``.msg`` files of
``rig_msgs``, so the DDS types cannot drift from the definitions. Every class follows the rmw_cyclonedds
wire conventions: type name ``pkg::msg::dds_::Type_``, ``@final`` (cyclonedds' default extensibility),
no keys, XCDR1 (plain CDR); fields in .msg order.

Usage::

    types = default_types()
    image = types.new("sensor_msgs/msg/Image", height=1, width=1, encoding="mono8", step=1, data=b"\\x07")
    wire = image.serialize()                 # b"\\x00\\x01\\x00\\x00" + CDR body, as a ROS 2 node sends it
    types.type_hash("sensor_msgs/msg/Image")  # "RIHS01_...", what rmw puts in USER_DATA
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from cyclonedds.idl import IdlStruct, make_idl_struct
from cyclonedds.idl import types as idl
from cyclonedds.idl._machinery import BytesMachine
from rosbags.interfaces import Nodetype
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

# ROS base type -> (cyclonedds field type, ROS default value). rosidl maps `char` to uint8 and `byte` to octet;
# cyclonedds 0.10 (the security-capable binding, see rig_transport.security) has no octet type: uint8, the same CDR.
_OCTET = getattr(idl, "byte", idl.uint8)
_BASE_TYPES: dict[str, tuple[Any, Any]] = {
    "bool": (bool, False),
    "byte": (_OCTET, 0),
    "char": (idl.uint8, 0),
    "int8": (idl.int8, 0),
    "uint8": (idl.uint8, 0),
    "int16": (idl.int16, 0),
    "uint16": (idl.uint16, 0),
    "int32": (idl.int32, 0),
    "uint32": (idl.uint32, 0),
    "int64": (idl.int64, 0),
    "uint64": (idl.uint64, 0),
    "float32": (idl.float32, 0.0),
    "float64": (idl.float64, 0.0),
    "string": (str, ""),
}
_OCTET_TYPES = {"byte", "char", "uint8"}
RIG_MSGS_PACKAGE = "rig_msgs"
PACKAGED_MSGS_DIR = Path(__file__).resolve().parent / "msg" / RIG_MSGS_PACKAGE
"""rig_msgs/msg as package data: a link to the repository's rig_msgs/msg, whose files a build copies into the wheel."""


def dds_type_name(type_name: str) -> str:
    """``"sensor_msgs/msg/Image"`` -> ``"sensor_msgs::msg::dds_::Image_"`` (rmw_cyclonedds' mangling)."""
    parts = type_name.split("/")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"expected a ROS type name like 'sensor_msgs/msg/Image', got {type_name!r}")
    package, kind, name = parts
    return f"{package}::{kind}::dds_::{name}_"


def find_rig_msgs_dir() -> Path:
    """The ``rig_msgs/msg`` directory: ``$RIG_MSGS_DIR``, else the copy this package carries (`PACKAGED_MSGS_DIR`)."""
    path = Path(os.environ.get("RIG_MSGS_DIR") or PACKAGED_MSGS_DIR)
    if not path.is_dir():
        source = "RIG_MSGS_DIR" if os.environ.get("RIG_MSGS_DIR") else "the rig_transport install"
        raise FileNotFoundError(f"rig_msgs message definitions not found: {path} ({source}) is not a directory")
    return path


def load_typestore(msg_dir: Path | None = None) -> Typestore:
    """rosbags' ROS 2 Jazzy typestore with the ``rig_msgs`` messages from ``msg_dir`` registered."""
    store = get_typestore(Stores.ROS2_JAZZY)
    msg_dir = msg_dir or find_rig_msgs_dir()
    definitions: dict[str, Any] = {}
    for path in sorted(msg_dir.glob("*.msg")):
        definitions.update(get_types_from_msg(path.read_text(), f"{RIG_MSGS_PACKAGE}/msg/{path.stem}"))
    if not definitions:
        raise FileNotFoundError(f"no .msg files in {msg_dir}")
    store.register(definitions)
    return store


class MessageTypes:
    """The DDS class of every message type a typestore knows, built on first use and cached."""

    def __init__(self, typestore: Typestore) -> None:
        self.typestore = typestore
        self._classes: dict[str, type[IdlStruct]] = {}

    def idl_class(self, type_name: str) -> type[IdlStruct]:
        """The IdlStruct dataclass for ``type_name``; fields default to ROS defaults, constants are class attributes."""
        if type_name not in self._classes:
            self._classes[type_name] = self._build(type_name)
        return self._classes[type_name]

    def new(self, type_name: str, /, **fields: Any) -> Any:
        """A message of ``type_name``; numpy arrays become bytes (uint8) or lists, which cyclonedds serialises."""
        plain = {name: _plain(value) for name, value in fields.items()}
        return self.idl_class(type_name)(**plain)

    def type_hash(self, type_name: str) -> str:
        """The ROS 2 type hash (``RIHS01_<hex>``) of ``type_name``, as a ROS 2 Jazzy build computes it."""
        return self.typestore.hash_rihs01(type_name)

    def _build(self, type_name: str) -> type[IdlStruct]:
        if type_name not in self.typestore.fielddefs:
            raise ValueError(f"unknown message type {type_name!r} (not a ROS 2 Jazzy standard type nor in rig_msgs)")
        constants, fielddefs = self.typestore.fielddefs[type_name]
        annotations: dict[str, Any] = {}
        factories: dict[str, Callable[[], Any]] = {}
        for name, desc in fielddefs:
            annotations[name], factories[name] = self._field(desc, f"{type_name}.{name}")
        cls = make_idl_struct(f"{type_name.rsplit('/', 1)[-1]}_", dds_type_name(type_name), annotations, dataclassify=False)
        for name, factory in factories.items():
            setattr(cls, name, dataclasses.field(default_factory=factory))
        cls = dataclasses.dataclass(cls)
        for name, _, value in constants:
            setattr(cls, name, value)
        _octet_sequences_as_bytes(cls, [name for name, desc in fielddefs if _is_octet_sequence(desc)])
        return cls

    def _field(self, desc: tuple[Any, Any], where: str) -> tuple[Any, Callable[[], Any]]:
        """cyclonedds type and default factory of one rosbags field descriptor."""
        node, detail = desc
        if node == Nodetype.BASE:
            base, bound = detail
            if base not in _BASE_TYPES:
                raise TypeError(f"{where}: ROS type {base!r} is not supported by the DDS transport")
            kind, default = _BASE_TYPES[base]
            return (idl.bounded_str[bound] if base == "string" and bound else kind), lambda: default
        if node == Nodetype.NAME:
            cls = self.idl_class(detail)
            return cls, cls
        inner, size = detail
        inner_kind, inner_default = self._field(inner, where)
        if node == Nodetype.ARRAY:
            if inner[0] == Nodetype.BASE and inner[1][0] in _OCTET_TYPES:
                return idl.array[inner_kind, size], lambda: bytes(size)  # cyclonedds reads octet arrays as bytes
            return idl.array[inner_kind, size], lambda: [inner_default() for _ in range(size)]
        if node == Nodetype.SEQUENCE:
            if _is_octet_sequence(desc):
                return idl.sequence[inner_kind], bytes  # read and written as bytes: see _octet_sequences_as_bytes
            return (idl.sequence[inner_kind, size] if size else idl.sequence[inner_kind]), list
        raise TypeError(f"{where}: unsupported field descriptor {desc!r}")


def _is_octet_sequence(desc: tuple[Any, Any]) -> bool:
    """An unbounded sequence of byte, char or uint8 (image data, weights), from a rosbags field descriptor."""
    node, detail = desc
    if node != Nodetype.SEQUENCE:
        return False
    (inner_node, inner_detail), bound = detail
    return not bound and inner_node == Nodetype.BASE and inner_detail[0] in _OCTET_TYPES


def _octet_sequences_as_bytes(cls: type[IdlStruct], names: list[str]) -> None:
    """Serialise unbounded octet sequences (image data, weights) as one block of bytes.

    cyclonedds packs and unpacks a ``sequence<uint8>`` element by element into a list: about 0.1 s each way for a
    700 KB weights bundle, and milliseconds for every image. Its BytesMachine writes the same XCDR1 bytes (uint32
    length, then the octets) in one copy, but a ``bytes`` annotation has no XTypes type object, so the field keeps
    its ``sequence<uint8>`` annotation (type information, discovery) and only its (de)serialiser is swapped. The
    rosbags byte-equality tests check the result. Relies on cyclonedds internals (``__idl__``'s machines: ``v1_`` and
    ``v2_machine`` in cyclonedds 11, ``v0_`` and ``v2_machine`` in 0.10).
    """
    if not names:
        return
    cls.__idl__.populate()
    machines = [getattr(cls.__idl__, f"v{version}_machine", None) for version in (0, 1, 2)]
    for machine in filter(None, machines):
        for name in names:
            machine.members_machines[name] = BytesMachine()


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tobytes() if value.dtype == np.uint8 else value.tolist()
    return value


@functools.cache
def default_types() -> MessageTypes:
    """The process-wide MessageTypes: ROS 2 Jazzy standard types plus rig_msgs (see find_rig_msgs_dir)."""
    return MessageTypes(load_typestore())
