"""Task metrics."""
