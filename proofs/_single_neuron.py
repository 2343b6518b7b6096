"""(Placeholder, being written) single_neuron.*: the single-neuron model with layer-wise rates (issue 4)."""
