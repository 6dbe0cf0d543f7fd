"""The real Sawyer graph: camera, policy and trainer (`rig up real` without ROS).

    ros2 launch rig real_sawyer.launch.py [params_file:=my_params.yaml] [log_level:=debug]

The Sawyer driver (Intera) is not started here yet: it joins on its topics, /rig/cmd_ee_velocity in,
/rig/ee_pose out and the /rig/episode reset handshake (see the README's topic table).
"""

from rig_launch.ros_launch import graph_launch_description


def generate_launch_description():
    return graph_launch_description(
        "real",
        "RIG real_sawyer: camera_node, policy_node and trainer_node; the Sawyer driver joins on /rig/cmd_ee_velocity, "
        "/rig/ee_pose and /rig/episode (not started by this launch file yet)",
    )
