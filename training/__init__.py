"""Training data, the training loop and baselines."""
