"""Datasets behind the standard tasks: embedded offline defaults and checksummed downloads."""
