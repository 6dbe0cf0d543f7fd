"""intera_core_msgs as genpy message classes, generated at import from the `.msg` files this package carries.

No ROS 1 build (catkin) is needed: genmsg parses ``msg/intera_core_msgs/*.msg`` (the robot's definitions, same
fields, types and constants, hence the same md5sums), the std_msgs/geometry_msgs definitions they use come from the
installed ROS 1 message modules (their ``_full_text``), and genpy's own generator writes each class's source, which
is executed into a module of its own. The classes work with rospy.Publisher/Subscriber like catkin-built ones.

Usage::

    from rig_sawyer_driver.intera_msgs import JointCommand
    command = JointCommand(mode=JointCommand.VELOCITY_MODE, names=["right_j0"], velocity=[0.1])
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

from rig_sawyer_driver.ros1 import genmsg, genpy

PACKAGE = "intera_core_msgs"
MSG_DIR = Path(__file__).resolve().parent / "msg" / PACKAGE
_SEPARATOR = "\n" + "=" * 80 + "\n"  # between the definitions in a genpy class's _full_text


def _register_installed(context: genmsg.MsgContext, type_name: str) -> None:
    """Register an installed ROS 1 message type and everything it depends on, from its class's ``_full_text``."""
    package, name = type_name.split("/")
    own, *dependencies = getattr(importlib.import_module(f"{package}.msg"), name)._full_text.split(_SEPARATOR)
    definitions = [(type_name, own)] + [tuple(dep[len("MSG: "):].split("\n", 1)) for dep in dependencies]
    for full_name, text in definitions:
        if not context.is_registered(full_name.strip()):
            spec = genmsg.msg_loader.load_msg_from_string(context, text, full_name.strip())
            context.register(full_name.strip(), spec)


def _load(context: genmsg.MsgContext, type_name: str) -> genmsg.MsgSpec:
    """The spec of one carried message, its dependencies registered first (carried or installed)."""
    spec = genmsg.msg_loader.load_msg_from_file(context, str(MSG_DIR / f"{type_name.split('/')[1]}.msg"), type_name)
    for field_type in spec.types:
        base = genmsg.msgs.bare_msg_type(field_type)
        if genmsg.msgs.is_builtin(base):
            continue
        dependency = genmsg.msgs.resolve_type(base, PACKAGE)
        if context.is_registered(dependency):
            continue
        if dependency.startswith(f"{PACKAGE}/"):
            _load(context, dependency)
        else:
            _register_installed(context, dependency)
    context.register(type_name, spec)
    return spec


def generate(name: str) -> type[genpy.Message]:
    """The genpy class of ``intera_core_msgs/<name>``, built from the carried ``<name>.msg``."""
    context = genmsg.MsgContext.create_default()
    type_name = f"{PACKAGE}/{name}"
    spec = _load(context, type_name)
    source = "\n".join(genpy.generator.msg_generator(context, spec, {}))
    module = types.ModuleType(f"{__name__}._{name}")
    sys.modules[module.__name__] = module
    exec(compile(source, f"<genpy {type_name}>", "exec"), module.__dict__)  # genpy's own generated code
    return getattr(module, name)


JointCommand = generate("JointCommand")
EndpointState = generate("EndpointState")
RobotAssemblyState = generate("RobotAssemblyState")
JointLimits = generate("JointLimits")
