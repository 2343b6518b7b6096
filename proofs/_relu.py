"""(Placeholder, being written) relu.*: arc-cosine kernels and the two-layer ReLU NTK (issues 5 and 7)."""
