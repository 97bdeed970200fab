"""Sample applications for demos and tests."""
