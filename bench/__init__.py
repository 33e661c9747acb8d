"""Benchmarks of the control room; each script prints its numbers (see RESULTS.md)."""
