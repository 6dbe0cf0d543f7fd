"""ament_python package rig_policy_node; also installable with pip (`pip install -e ./rig_policy_node`)."""

from setuptools import find_packages, setup

PACKAGE = "rig_policy_node"

setup(
    name=PACKAGE,
    version="0.1.0",
    description="RIG on ROS 2: the policy node (VAE encoder + goal-conditioned actor, episodes, transitions, weight hot-swap)",
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
    entry_points={"console_scripts": [f"{PACKAGE} = {PACKAGE}.node:main"]},
)
