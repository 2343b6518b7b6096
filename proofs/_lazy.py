"""(Placeholder, being written) lazy.*: gradient flow with a fixed kernel (issue 7)."""
