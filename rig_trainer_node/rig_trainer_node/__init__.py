"""RIG trainer node: transitions from many robots -> episodes -> VAE + TD3 training -> versioned weights."""
