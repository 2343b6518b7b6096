"""(Placeholder, being written) transfer.*: the adapted kernel after rich pretraining and the fine-tuning loss (issue 6)."""
