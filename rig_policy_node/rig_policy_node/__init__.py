"""RIG policy node: camera frames -> VAE encoder -> goal-conditioned actor -> end-effector velocity."""
