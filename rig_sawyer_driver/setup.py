"""ament_python package rig_sawyer_driver; also installable with pip (`pip install -e ./rig_sawyer_driver`).

Its ROS 1 side needs rospy, which is not on PyPI: `apt-get install python3-rospy ...` (see rig_sawyer_driver.ros1)."""

from setuptools import find_packages, setup

PACKAGE = "rig_sawyer_driver"

setup(
    name="rig-sawyer-driver",
    version="0.1.0",
    description="RIG on ROS 2: the real Sawyer driver (ROS 2 side on rig_transport, Intera side on ROS 1 rospy) "
    "and a simulated Intera arm for tests",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=[PACKAGE, f"{PACKAGE}.*"]),
    package_data={PACKAGE: ["msg/intera_core_msgs/*.msg", "ros1_logging.yaml"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["setuptools", "numpy>=1.24", "rig-core", "rig-transport", "rig-drivers"],
    extras_require={"test": ["pytest>=8", "ruff>=0.6"]},
    zip_safe=False,
    entry_points={
        "console_scripts": [
            f"rig_sawyer_driver = {PACKAGE}.node:main",
            f"rig_sim_intera_arm = {PACKAGE}.sim_intera_arm:main",
        ]
    },
)
