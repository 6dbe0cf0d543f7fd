"""Installs like a package: wheels of every project package, built offline (`pip wheel --no-index`) from a copy of
the source tree, installed (not editable) into a fresh virtual environment and run from there as a user runs them.
The install holds every file of the packages' source (rig_msgs' definitions, the parameter file, the Intera .msg
files) and the launch files, imports from itself and not from the source tree, builds every rig_msgs DDS type,
starts the installed nodes (`rig up sim --dry-run`) and its simulated Sawyer publishes over DDS.

The dependencies (torch, mujoco, cyclonedds, ...) are this environment's site-packages, added by a path file and so
without their own path files: the editable installs of the project packages stay out."""

from __future__ import annotations

import filecmp
import json
import os
import shlex
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from rig_transport.testing import TIMEOUT_S, NodeProcess, TestNode  # first: without cyclonedds, this module skips

# isort: split
from rig_transport import SENSOR_DATA, STATUS
from rig_transport.dds_types import dds_type_name

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {
    "rig_core": "rig_core",
    "rig_transport": "rig_transport",
    "rig_drivers": "rig_drivers",
    "rig_sawyer_driver": "rig_sawyer_driver",
    "rig_policy_node": "rig_policy_node",
    "rig_trainer_node": "rig_trainer_node",
    "launch": "rig_launch",
}
"""Project directory -> the Python package its wheel installs."""
ROBOT = f"wheel_sim_{os.getpid()}"
SOURCE_PATHS = ("PYTHONPATH", "PYTHONHOME")
"""Environment variables that would put other code than the install's on a Python path."""

pytestmark = pytest.mark.slow
if missing := [directory for directory in [*PACKAGES, "rig_msgs"] if not (REPO / directory).is_dir()]:
    pytest.skip(f"needs the repository's source tree, which {REPO} is not (no {', '.join(missing)}): this package "
                "was copied alone (a colcon workspace of copies); ros2_ws/src links to the repository's",
                allow_module_level=True)  # fmt: skip


def run(command: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run ``command`` in ``cwd``; its stdout (fails with its output when it exits non-zero)."""
    result = subprocess.run([str(arg) for arg in command], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=TIMEOUT_S)  # fmt: skip
    assert result.returncode == 0, f"{shlex.join(map(str, command))}:\n{result.stdout}{result.stderr}"
    return result.stdout


class Install:
    """The virtual environment with the project's wheels installed, and how to run its commands."""

    def __init__(self, root: Path) -> None:
        self.venv, self.bin = root / "venv", root / "venv" / "bin"
        self.cwd = root / "work"  # outside the repository: nothing imports from a source tree
        self.cwd.mkdir()
        inherited = {name: value for name, value in os.environ.items() if name not in SOURCE_PATHS}
        self.env = inherited | {"PATH": f"{self.bin}{os.pathsep}{os.defpath}"}  # its console scripts, not ours

    def python(self, code: str) -> str:
        return run([self.bin / "python", "-I", "-c", code], self.cwd, self.env)


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    root = tmp_path_factory.mktemp("wheel_install")
    source, wheels = root / "src", root / "wheels"
    # A copy (links kept, as pip sees them in the repository), so no build output of an earlier build can slip in.
    skip = shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "tests", "test")
    for directory in [*PACKAGES, "rig_msgs"]:
        shutil.copytree(REPO / directory, source / directory, symlinks=True, ignore=skip)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", wheels,
         *(source / directory for directory in PACKAGES)], root)  # fmt: skip
    installed = Install(root)
    run([sys.executable, "-m", "venv", "--without-pip", installed.venv], root)
    run([*pip, "--python", installed.bin / "python", "install", "--no-deps", "--no-index", "-q",
         *sorted(wheels.glob("*.whl"))], root)  # fmt: skip
    purelib = Path(installed.python("import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    (purelib / "test_dependencies.pth").write_text("".join(f"{path}\n" for path in site.getsitepackages()))
    return installed


def test_the_install_holds_every_package_file_and_imports_from_itself(install: Install) -> None:
    packages = list(PACKAGES.values())
    code = f"import importlib, json; print(json.dumps({{n: importlib.import_module(n).__file__ for n in {packages}}}))"
    modules = json.loads(install.python(code))
    for directory, package in PACKAGES.items():
        installed = Path(modules[package]).parent
        assert installed.is_relative_to(install.venv), f"{package} imported from {installed}, not the install"
        for folder, subfolders, files in os.walk(REPO / directory / package, followlinks=True):
            subfolders[:] = [name for name in subfolders if name != "__pycache__"]
            for name in files:
                relative = (Path(folder) / name).relative_to(REPO / directory / package)
                assert filecmp.cmp(Path(folder) / name, installed / relative, shallow=False), f"{package}/{relative}"
    for launch_file in (REPO / "launch" / "launch").glob("*.launch.py"):
        assert filecmp.cmp(launch_file, install.venv / "share" / "rig" / "launch" / launch_file.name, shallow=False)


def test_the_installed_rig_msgs_are_the_repository_s_and_every_type_builds(install: Install) -> None:
    code = ("import json; from rig_transport.dds_types import default_types, find_rig_msgs_dir; d = find_rig_msgs_dir(); "
            "t = default_types(); names = [f'rig_msgs/msg/{p.stem}' for p in sorted(d.glob('*.msg'))]; "
            "print(json.dumps({'dir': str(d), 'types': [t.idl_class(n).__idl_typename__ for n in names]}))")  # fmt: skip
    found = json.loads(install.python(code))
    assert Path(found["dir"]).is_relative_to(install.venv)
    msgs = sorted((REPO / "rig_msgs" / "msg").glob("*.msg"))
    assert found["types"] == [dds_type_name(f"rig_msgs/msg/{path.stem}") for path in msgs]
    assert "rig_msgs::msg::dds_::DriverStatus_" in found["types"]
    assert all(filecmp.cmp(path, Path(found["dir"]) / path.name, shallow=False) for path in msgs)


def test_rig_up_sim_starts_the_installed_nodes_with_the_installed_parameter_file(install: Install) -> None:
    lines = run([install.bin / "rig", "up", "sim", "--dry-run"], install.cwd, install.env).splitlines()
    commands = [shlex.split(line) for line in lines if "--ros-args" in line]
    assert [Path(command[0]).name for command in commands] == ["rig_sim_sawyer_node", "rig_policy_node", "rig_trainer_node"]
    for command in commands:
        params_file = Path(command[command.index("--params-file") + 1])
        assert Path(command[0]).parent == install.bin and params_file.is_relative_to(install.venv), command
        assert params_file.read_bytes() == (REPO / "launch" / "rig_launch" / "config" / "rig_params.yaml").read_bytes()


def test_the_installed_sim_sawyer_node_publishes_over_dds(install: Install, test_node: TestNode, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    for name in SOURCE_PATHS:
        monkeypatch.delenv(name, raising=False)
    frames = test_node.listen("/rig/camera/image_raw", "sensor_msgs/msg/Image", SENSOR_DATA)
    states = test_node.listen("/rig/sim/task_state", "rig_msgs/msg/SimTaskState", STATUS)
    test_node.start()
    script = install.bin / "rig_sim_sawyer_node"
    node = NodeProcess(script.name, {}, tmp_path / "node.log", args=[str(script), "--ros-args", "-p", f"robot_id:={ROBOT}"])
    try:
        frame = frames.wait_for(lambda msg: True, "a camera frame from the installed node", node)
        assert (frame.width, frame.height, frame.encoding) == (84, 84, "rgb8")
        states.wait_for(lambda msg: msg.robot_id == ROBOT, "a task state from the installed node", node)
    finally:
        exit_code = node.stop()
    assert exit_code == 0, node.log()
