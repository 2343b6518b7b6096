"""(Placeholder, being written) diagonal.*: diagonal linear networks, pretraining and fine-tuning (issue 8)."""
