"""Bringup of the RIG node graph: which nodes make up each graph (`graph`), and `rig up` (`up`)."""
