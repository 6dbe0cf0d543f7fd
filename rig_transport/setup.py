"""ament_python package rig_transport; also installable with pip (`pip install -e ./rig_transport`)."""

from setuptools import find_packages, setup

PACKAGE = "rig_transport"

setup(
    name=PACKAGE,
    version="0.1.0",
    description="RIG on ROS 2: the publish/subscribe/timer/parameter interface nodes are written against, "
    "with rclpy and plain Cyclone DDS backends",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=[PACKAGE, f"{PACKAGE}.*"]),
    # msg/rig_msgs links to ../rig_msgs/msg, the one source of the definitions: a build copies its files into the wheel.
    package_data={PACKAGE: ["py.typed", "msg/rig_msgs/*.msg"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    # Under ROS 2 the rclpy backend needs none of the DDS backend's PyPI packages; pip users get them all.
    install_requires=[
        "setuptools",
        "cyclonedds>=11.0.1,<12",
        "rosbags>=0.11,<0.12",
        "numpy>=1.24",
        "pyyaml>=6.0",
        "opencv-python-headless>=4.8",
    ],
    extras_require={"test": ["pytest>=8", "ruff>=0.6"]},
    zip_safe=False,
)
