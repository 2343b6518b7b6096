"""(Placeholder, being written) hermite.*: normalised Hermite coefficients and information exponents (issue 7)."""
