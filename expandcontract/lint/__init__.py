"""The lint engine: statements in, findings out."""
