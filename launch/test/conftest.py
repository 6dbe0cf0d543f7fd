"""Real DDS between real processes: each test has a ROS domain of its own and Cyclone DDS on loopback, nodes run
from their installed console scripts and are stopped at teardown (see rig_transport.testing).

On a ROS 2 machine without the DDS backend's PyPI packages (`colcon test` on a Jazzy build) there is no cyclonedds:
the modules that run nodes over plain DDS skip, naming it (`pytest.importorskip("cyclonedds", ...)`), the others run.
That holds under launch_testing's pytest plugin too (`colcon test`), which imports every test module to look for a
launch test and lets a module's skip end the whole directory's collection: such a module is collected as a plain one,
and skips alone."""

import importlib.util

import pytest

if importlib.util.find_spec("cyclonedds") is not None:
    from rig_transport.testing import isolated_dds, start_node, test_node

    __all__ = ["isolated_dds", "start_node", "test_node"]


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "slow: longer end-to-end runs (still part of the default suite)")


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makemodule(module_path, parent):
    """A module that skips at import (no cyclonedds, no ROS 1, no source tree) is a module that skips, not a directory."""
    try:
        return (yield)
    except pytest.skip.Exception:
        return pytest.Module.from_parent(parent, path=module_path)
