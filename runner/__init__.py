"""perceptron-runner: a config-driven experiment runner for the classic single-layer perceptron."""
