"""(Placeholder, being written) Report section: learning curves and transfer in infinite width (issues 5 and 6)."""
