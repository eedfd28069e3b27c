"""Virtual patients: parameter sampling (covariates and inclusion come later)."""
