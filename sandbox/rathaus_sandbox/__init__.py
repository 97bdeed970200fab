"""Sandbox stand-ins for the systems that rathaus robots work with (demos and tests only)."""
