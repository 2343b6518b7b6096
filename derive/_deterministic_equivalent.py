"""(Placeholder, being written) linear_teacher.risk: the anisotropic deterministic equivalent (issues 5 and 6 share its kappa solver)."""
