"""(Placeholder, being written) Report section: fine-tuning from linear teachers (issue 5)."""
