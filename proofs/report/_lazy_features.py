"""(Placeholder, being written) Report section: lazy training, single-index dynamics, fine-tuning (issues 5 and 7)."""
