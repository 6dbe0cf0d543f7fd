"""The real Sawyer graph on Gazebo: sawyer_simulator (ROS 1 Noetic, started separately) stands in for the robot.

    ros2 launch rig gazebo_sawyer.launch.py [robot_host:=localhost] [params_file:=my_params.yaml]

The same Intera driver as real_sawyer.launch.py, on sawyer_simulator's ROS 1 master (robot_host:=, default
localhost: http://localhost:11311); the camera node takes Gazebo's head camera over ROS 1
(/io/internal_camera/head_camera/image_raw); robot_id:= defaults to sawyer_gazebo. docker/README.md starts both
sides together.
"""

from rig_launch.ros_launch import graph_launch_description


def generate_launch_description():
    return graph_launch_description(
        "gazebo", "RIG gazebo_sawyer: camera_node (Gazebo's head camera over ROS 1), policy_node, trainer_node and "
        "sawyer_driver (Intera) on sawyer_simulator's master"
    )
