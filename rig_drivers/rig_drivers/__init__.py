"""RIG on ROS 2 robot-side nodes: the camera node and the simulated Sawyer driver."""
