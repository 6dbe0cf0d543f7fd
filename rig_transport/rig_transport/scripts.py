"""Where an installed console script is, under pip and under colcon alike.

pip puts a distribution's console scripts next to the interpreter (a virtual environment's ``bin``) or on PATH;
colcon puts an ament_python package's in ``<prefix>/lib/<package>/`` (the ament index: ``ros2 run`` looks there, for
each prefix of AMENT_PREFIX_PATH). A distribution installed with pip for another interpreter (a virtual environment
whose site-packages a ROS 2 environment adds, without its ``bin`` on PATH) records where its scripts went.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import sys
from pathlib import Path

AMENT_PACKAGES = Path("share/ament_index/resource_index/packages")
"""The ament index's list of the packages under a prefix (a file per package)."""


def find_script(name: str, package: str | None = None) -> str | None:
    """The console script ``name``: next to sys.executable, else on PATH, else in ``lib/<package>/`` of an ament prefix
    (any indexed package's where ``package`` is None), else where its distribution's record put it; None if nowhere."""
    if found := shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name):
        return found
    for prefix in map(Path, filter(None, os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep))):
        packages = [package] if package else sorted(entry.name for entry in (prefix / AMENT_PACKAGES).glob("*"))
        for lib in packages:
            if found := shutil.which(name, path=str(prefix / "lib" / lib)):
                return found
    for entry in importlib.metadata.entry_points(group="console_scripts", name=name):
        for file in entry.dist.files or ():
            if file.name == name and (found := shutil.which(str(file.locate().resolve()))):
                return found
    return None


def installed_script(name: str, package: str | None = None) -> str:
    """`find_script`, or FileNotFoundError naming the script and where it was looked for."""
    if (path := find_script(name, package)) is None:
        raise FileNotFoundError(f"console script {name!r} is not installed (not next to {sys.executable}, on PATH, "
                                "in an ament prefix's lib/ or where a distribution's record put it)")  # fmt: skip
    return path
