"""The simulated Sawyer graph: MuJoCo Sawyer driver, policy and trainer (`rig up sim` without ROS).

    ros2 launch rig sim_sawyer.launch.py [params_file:=my_params.yaml] [log_level:=debug]
"""

from rig_launch.ros_launch import graph_launch_description


def generate_launch_description():
    return graph_launch_description(
        "sim", "RIG sim_sawyer: MuJoCo Sawyer (sim_sawyer_node), policy_node and trainer_node; goal images on /rig/goal_image"
    )
