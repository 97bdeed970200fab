"""Keyword components of the WorkItems library, one concern each."""
