"""(Placeholder, being written) lambda_balanced.qqt and the observables of the whole network (issue 4)."""
