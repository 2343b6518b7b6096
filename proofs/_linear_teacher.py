"""(Placeholder, being written) linear_teacher.*: fine-tuning linear regression from source weights (issue 5)."""
