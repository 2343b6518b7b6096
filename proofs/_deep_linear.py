"""(Placeholder, being written) deep_linear.*: deep linear networks fine-tuned from balanced pretrained weights (issue 5)."""
