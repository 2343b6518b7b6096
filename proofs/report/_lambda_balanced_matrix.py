"""(Placeholder, being written) Report section: whole λ-balanced networks and the single neuron (issue 4)."""
