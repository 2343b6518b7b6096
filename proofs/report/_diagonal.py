"""(Placeholder, being written) Report section: diagonal linear networks (issue 8)."""
