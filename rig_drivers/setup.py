"""ament_python package rig_drivers; also installable with pip (`pip install -e ./rig_drivers`)."""

from setuptools import find_packages, setup

PACKAGE = "rig_drivers"

setup(
    name="rig-drivers",
    version="0.1.0",
    description="RIG on ROS 2: the camera node (USB camera, video file or image folder) and the simulated Sawyer driver",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=[PACKAGE, f"{PACKAGE}.*"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["setuptools", "numpy>=1.24", "opencv-python-headless>=4.8", "rig-core", "rig-transport"],
    extras_require={"test": ["pytest>=8", "ruff>=0.6"]},
    zip_safe=True,
    entry_points={
        "console_scripts": [
            f"rig_camera_node = {PACKAGE}.camera_node:main",
            f"rig_sim_sawyer_node = {PACKAGE}.sim_sawyer_node:main",
        ]
    },
)
