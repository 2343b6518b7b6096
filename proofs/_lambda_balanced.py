"""Claims about lambda_balanced.* and saxe.* (filled in below)."""
