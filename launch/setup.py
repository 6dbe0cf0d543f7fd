"""ament_python package `rig` (bringup); also installable with pip (`pip install -e ./launch`) for `rig up`."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "rig"

setup(
    name=PACKAGE,
    version="0.1.0",
    description="RIG on ROS 2 bringup: launch files, the parameter file, and `rig up` (the graph without ROS)",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["rig_launch", "rig_launch.*"]),
    package_data={"rig_launch": ["config/*.yaml"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/config", glob("rig_launch/config/*.yaml")),
        (f"share/{PACKAGE}/foxglove", glob("foxglove/*.json")),
    ],
    install_requires=["setuptools", "pyyaml>=6", "tqdm>=4.66", "cryptography>=42", "rig-core", "rig-transport"],
    extras_require={"test": ["pytest>=8"]},
    zip_safe=False,
)
