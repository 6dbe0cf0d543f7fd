"""The real Sawyer graph: camera, policy, trainer and the Intera driver (`rig up real` without ROS 2).

    ros2 launch rig real_sawyer.launch.py robot_host:=sawyer.local [params_file:=my_params.yaml] [log_level:=debug]

robot_host:=HOST[:PORT] points the driver at the robot's ROS 1 master, http://HOST:11311 (empty: the parameter
file's sawyer_driver.ros_master_uri, or ROS_MASTER_URI); robot_id:= (default sawyer) is the policy's and the
driver's. Before the first run, go through the operator's checklist in the README ("Driving a real Sawyer").
"""

from rig_launch.ros_launch import graph_launch_description


def generate_launch_description():
    return graph_launch_description(
        "real", "RIG real_sawyer: camera_node, policy_node, trainer_node and sawyer_driver (Intera, ROS 1); "
        "stop the arm with the robot's e-stop, or `rig stop` (/rig/driver/stop)"
    )
