"""(Placeholder, being written) single_index.*: single-index online-SGD dynamics (issue 7)."""
