"""Console scripts found as pip and colcon install them: next to the interpreter or on PATH, in an ament prefix's
``lib/<package>/``, or where the distribution's record put them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rig_transport.scripts import AMENT_PACKAGES, find_script, installed_script


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def ament_prefix(root: Path, package: str, script: str) -> Path:
    """A colcon install prefix with ``package`` in its ament index and an executable ``lib/<package>/<script>``."""
    (root / AMENT_PACKAGES).mkdir(parents=True)
    (root / AMENT_PACKAGES / package).touch()
    return executable(root / "lib" / package / script)


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No script next to the interpreter (it lives in an empty folder) and none on PATH."""
    (tmp_path / "bin").mkdir()
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    return tmp_path


def test_an_ament_prefix_s_script_is_found_by_its_package_or_any_indexed_one(bare: Path, monkeypatch) -> None:
    script = ament_prefix(bare / "install", "rig_demo", "rig_demo_node")
    unindexed = executable(bare / "other" / "lib" / "rig_other" / "rig_demo_node")
    monkeypatch.setenv("AMENT_PREFIX_PATH", f"{bare / 'other'}:{bare / 'install'}")
    assert find_script("rig_demo_node", "rig_demo") == str(script)
    assert find_script("rig_demo_node") == str(script)  # rig_other is in no ament index
    assert find_script("rig_demo_node", "rig_other") == str(unindexed)
    assert find_script("rig_demo_node", "rig_missing") is None


def test_next_to_the_interpreter_and_on_path_come_first(bare: Path, monkeypatch) -> None:
    ament_prefix(bare / "install", "rig_demo", "rig_demo_node")
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(bare / "install"))
    on_path = executable(bare / "path" / "rig_demo_node")
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert find_script("rig_demo_node", "rig_demo") == str(on_path)
    beside = executable(bare / "venv" / "rig_demo_node")
    monkeypatch.setattr(sys, "executable", str(beside.parent / "python"))
    assert find_script("rig_demo_node", "rig_demo") == str(beside)


def test_a_pip_installed_script_off_path_is_where_its_distribution_recorded_it(bare: Path, monkeypatch) -> None:
    monkeypatch.delenv("AMENT_PREFIX_PATH", raising=False)
    recorded = find_script("pytest")  # pytest's console script, where pip installed it (off PATH now)
    assert recorded is not None and Path(recorded).name == "pytest" and not Path(recorded).is_relative_to(bare)
    with pytest.raises(FileNotFoundError, match="'rig_no_such_script' is not installed"):
        installed_script("rig_no_such_script")
