"""Sample platform exports for demos, tests and benchmarks."""
