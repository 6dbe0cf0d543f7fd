"""ROS 2 parameters without ROS: ``--ros-args`` parsing, parameter YAML files and typed values.

Under rclpy, rcl does all of this. The DDS backend has no rcl (and nothing on PyPI parses ROS arguments),
so this module implements the part the project uses, with the same command line and file format::

    policy_node --ros-args --params-file config/rig_params.yaml -p image_size:=84 --log-level debug

A parameter file holds ``/**:`` (every node) and ``/<node_name>:`` (or ``<node_name>:``) sections, each
with ``ros__parameters:``; sections apply in file order, files in command-line order, ``-p`` last. Nested
mappings become dotted names (``vae: {beta: 1.0}`` is ``vae.beta``). Values are typed like rcl types them:
``1`` is an integer, ``1.0`` and ``1e-3`` are doubles, quoted text is a string.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rig_transport.interface import ParameterError

SCALAR_TYPES = (bool, int, float, str)
_TYPE_NAMES = {bool: "bool", int: "integer", float: "double", str: "string"}


class _Loader(yaml.SafeLoader):
    """PyYAML follows YAML 1.1, where ``1e-3`` is a string; rcl reads it as a double, and so do we."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)
# ros2 launch writes a Node's dict parameters with yaml.dump, and launch_ros holds list values as tuples: a list
# parameter (the gazebo graph's control.home) arrives as ``!!python/tuple [...]``. It is read as the list it is.
_Loader.add_constructor("tag:yaml.org,2002:python/tuple", lambda loader, node: loader.construct_sequence(node))


@dataclass
class RosArgs:
    """What the DDS backend takes from the ``--ros-args`` sections of a command line."""

    params_files: list[Path] = field(default_factory=list)
    overrides: dict[str, Any] = field(default_factory=dict)
    """``-p name:=value`` values, typed from YAML."""
    log_level: str | None = None
    node_name: str | None = None
    """``-r __node:=NAME`` (what ``ros2 launch`` passes for a Node with a name): the node's name."""
    enclave: str | None = None
    """``--enclave NAME`` (``-e``): the node's DDS Security enclave (`rig_transport.security`)."""


def parse_ros_args(argv: Sequence[str]) -> RosArgs:
    """Parse the ``--ros-args`` sections of ``argv`` (each ends at ``--`` or the end), like rcl does."""
    result = RosArgs()
    inside = False
    tokens = iter(argv)
    for token in tokens:
        if token == "--ros-args":
            inside = True
        elif not inside:
            continue
        elif token == "--":
            inside = False
        elif token == "--params-file":
            result.params_files.append(Path(_value_of(token, tokens)))
        elif token in ("-p", "--param"):
            name, value = _split_assignment(_value_of(token, tokens))
            result.overrides[name] = value
        elif token == "--log-level":
            result.log_level = _value_of(token, tokens)
        elif token in ("-r", "--remap"):
            _remap(_value_of(token, tokens), result)
        elif token in ("-e", "--enclave"):
            result.enclave = _value_of(token, tokens)
        else:
            raise ParameterError(
                f"unsupported ROS argument {token!r} for the DDS transport (supported: --params-file FILE, "
                "-p NAME:=VALUE, --log-level LEVEL, -r __node:=NAME, --enclave NAME)"
            )
    return result


def _remap(rule: str, result: RosArgs) -> None:
    """The remapping rules the DDS transport takes: the node's name, and the root namespace (what launch passes)."""
    source, separator, target = rule.partition(":=")
    if source == "__node" and separator and target:
        result.node_name = target
    elif not (source == "__ns" and target in ("", "/")):
        raise ParameterError(f"unsupported remapping {rule!r} for the DDS transport (supported: __node:=NAME, __ns:=/)")


def _value_of(flag: str, tokens: Iterator[str]) -> str:
    value = next(tokens, None)
    if value is None:
        raise ParameterError(f"{flag} needs a value")
    return value


def _split_assignment(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition(":=")
    if not sep or not name:
        raise ParameterError(f"-p expects NAME:=VALUE, got {text!r}")
    return name, parse_value(raw)


def parse_value(text: str) -> Any:
    """Type a command-line parameter value the way rcl does (as YAML)."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ParameterError(f"cannot parse parameter value {text!r}: {exc}") from exc


def load_parameter_file(path: Path, node_name: str) -> dict[str, Any]:
    """The parameters a ROS 2 parameter YAML file sets for ``node_name``."""
    try:
        document = yaml.load(path.read_text(), Loader=_Loader)
    except OSError as exc:
        raise ParameterError(f"cannot read parameter file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ParameterError(f"parameter file {path} is not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise ParameterError(f"parameter file {path} must be a mapping of node names to ros__parameters")
    values: dict[str, Any] = {}
    for key, section in document.items():
        if key not in ("/**", f"/{node_name}", node_name):
            continue
        if not isinstance(section, dict) or not isinstance(section.get("ros__parameters"), dict):
            raise ParameterError(f"parameter file {path}: section {key!r} must contain a 'ros__parameters' mapping")
        values.update(_flatten(section["ros__parameters"]))
    return values


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            values.update(_flatten(value, f"{name}."))
        else:
            values[name] = value
    return values


def user_values(ros_args: RosArgs, node_name: str) -> dict[str, Any]:
    """All user-supplied parameter values for ``node_name``: files in order, then ``-p`` overrides."""
    values: dict[str, Any] = {}
    for path in ros_args.params_files:
        values.update(load_parameter_file(path, node_name))
    values.update(ros_args.overrides)
    return values


def check_default(name: str, default: Any) -> None:
    """Reject defaults that do not define a ROS parameter type."""
    if type(default) in SCALAR_TYPES:
        return
    if isinstance(default, list) and default and type(default[0]) in SCALAR_TYPES:
        if all(type(item) is type(default[0]) for item in default):
            return
    raise ParameterError(
        f"parameter {name!r}: default {default!r} does not define a type; use a bool, int, float, str or a "
        "non-empty list of one of them"
    )


def type_label(value: Any) -> str:
    """ROS name of a parameter value's type, e.g. ``double`` or ``integer array``."""
    if isinstance(value, list):
        kinds = {type(item) for item in value}
        kind = kinds.pop() if len(kinds) == 1 else None
        return f"{_TYPE_NAMES[kind]} array" if kind in _TYPE_NAMES else "empty or mixed list"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def typed_value(name: str, default: Any, value: Any) -> Any:
    """``value`` if it has the default's type, else a ParameterError that says what was expected."""
    check_default(name, default)
    if isinstance(default, list):
        ok = isinstance(value, list) and bool(value) and all(type(item) is type(default[0]) for item in value)
    else:
        ok = type(value) is type(default)
    if ok:
        return list(value) if isinstance(value, list) else value
    hint = " (write a double with a decimal point, e.g. 1.0)" if type_label(default).startswith("double") else ""
    raise ParameterError(f"parameter {name!r} expects {type_label(default)}, got {type_label(value)} {value!r}{hint}")


def resolve_parameters(defaults: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Typed value of every declared parameter: the user's value if given, else the default."""
    return {name: typed_value(name, default, values.get(name, default)) for name, default in defaults.items()}
