"""(Placeholder, being written) learning_curve.*: kernel-regression learning curves (issue 6)."""
