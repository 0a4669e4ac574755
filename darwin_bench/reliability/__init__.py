"""Reliability harnesses: crash a run at random points and check that nothing is lost."""
