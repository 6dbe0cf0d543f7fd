"""rig_sawyer_driver.ros1: rospy found on Debian's path (appended), a clear error without it, init_node's logging."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytest.importorskip("rig_sawyer_driver.ros1")

from rig_sawyer_driver.ros1 import ROS1_PYTHON_PATHS
from rig_sawyer_driver.testing import RosMaster
from rig_transport.testing import TIMEOUT_S


def run_python(code: str, cwd: Path, *, env: dict[str, str] | None = None,
               check: bool = True) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """``python -c code`` in ``cwd`` (not the repository root, whose package folders would shadow the installs)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT_S, check=check,
                          cwd=cwd, env=env)  # fmt: skip


def ros2_like_packages(root: Path) -> dict[str, str]:
    """Packages named like ROS 1's message packages but built the ROS 2 way (rosidl classes, no ``_md5sum``), first on
    PYTHONPATH as a sourced ROS 2 environment puts them; returns that environment."""
    for name in ("std_msgs", "sensor_msgs", "geometry_msgs", "rosgraph_msgs"):
        (root / name / "msg").mkdir(parents=True)
        (root / name / "__init__.py").write_text('"""A ROS 2 message package."""\n')
        (root / name / "msg" / "__init__.py").write_text("class Bool:\n    pass\n\n\nclass Header:\n    pass\n")
    return {**os.environ, "PYTHONPATH": str(root)}


def test_ros2_packages_first_on_the_path_do_not_shadow_ros1s(tmp_path: Path) -> None:
    env = ros2_like_packages(tmp_path / "ros2")
    assert "ros2" in run_python("import std_msgs; print(std_msgs.__file__)", tmp_path, env=env).stdout  # shadowing
    done = run_python("import json, sys; from rig_sawyer_driver.ros1 import std_msgs, sensor_msgs; "
                      "from rig_sawyer_driver.intera_msgs import JointCommand; "
                      "print(json.dumps([std_msgs.msg.Bool._md5sum, sensor_msgs.msg.JointState._md5sum, "
                      "JointCommand._md5sum, sys.path[1]]))", tmp_path, env=env)  # fmt: skip
    bool_md5, joint_state_md5, command_md5, first = json.loads(done.stdout)
    assert (bool_md5, joint_state_md5) == ("8b94c1b53db61fb6aed406028ad6332a", "3066dcd76a6cfaef579bd0f34173e9fd")
    assert command_md5 == "c8c85922d297da6209a089a906207e5d" and first == str(tmp_path / "ros2")  # path restored


def test_a_process_that_holds_ros2_messages_is_told_to_use_the_dds_backend(tmp_path: Path) -> None:
    env = ros2_like_packages(tmp_path / "ros2")
    done = run_python("import std_msgs.msg; import rig_sawyer_driver.ros1", tmp_path, env=env, check=False)
    assert done.returncode != 0 and "RIG_TRANSPORT=dds" in done.stderr.strip().splitlines()[-1]


def test_rospy_is_imported_from_a_ros1_path_appended_after_the_environment(tmp_path: Path) -> None:
    done = run_python("import json, sys; from rig_sawyer_driver.ros1 import rospy; "
                      "print(json.dumps({'rospy': rospy.__file__, 'path': sys.path}))", tmp_path)  # fmt: skip
    found = json.loads(done.stdout)
    ros1_paths = [path for path in ROS1_PYTHON_PATHS if Path(found["rospy"]).is_relative_to(path)]
    if not ros1_paths:
        pytest.skip(f"rospy comes from elsewhere here ({found['rospy']})")
    assert found["path"].index(ros1_paths[0]) > found["path"].index(sysconfig.get_paths()["purelib"])


def test_without_rospy_the_error_names_the_apt_packages(tmp_path: Path) -> None:
    blocker = ("import sys\n"
               "class Block:\n"
               "    def find_spec(self, name, path=None, target=None):\n"
               "        if name.partition('.')[0] == 'rospy':\n"
               "            raise ImportError('rospy blocked by the test')\n"
               "sys.meta_path.insert(0, Block())\n"
               "try:\n"
               "    import rig_sawyer_driver.ros1\n"
               "except ImportError as error:\n"
               "    print(type(error).__name__, error)\n")  # fmt: skip
    output = run_python(blocker, tmp_path).stdout
    assert output.startswith("Ros1Unavailable") and "rospy blocked by the test" in output
    assert "apt-get install python3-rospy" in output and "python3-sensor-msgs" in output


def test_init_node_leaves_the_process_logging_alone(ros1_env: RosMaster, tmp_path: Path) -> None:
    code = ("import logging, os\n"
            "logging.basicConfig(level=logging.INFO, format='[%(levelname)s] [%(name)s]: %(message)s')\n"
            "from rig_sawyer_driver import ros1\n"
            "ros1.init_node('logging_probe')\n"
            "logging.getLogger('ros2_side').info('after init_node')\n"
            "ros1.rospy.logwarn('from rospy')\n"
            "print('config left set:', 'ROS_PYTHON_LOG_CONFIG_FILE' in os.environ)\n"
            "ros1.rospy.signal_shutdown('done')\n")  # fmt: skip
    done = run_python(code, tmp_path)
    assert "[INFO] [ros2_side]: after init_node" in done.stderr  # rospy's own config would send it to a file only
    assert done.stderr.count("from rospy") == 1
    assert "config left set: False" in done.stdout
