"""RIG's Sawyer driver: a ROS 2 side on rig_transport, an Intera (ROS 1, rospy) side, and a simulated Intera arm."""
