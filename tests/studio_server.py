"""Placeholder; replaced by the real-server fixtures."""
