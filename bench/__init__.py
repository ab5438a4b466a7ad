"""Benchmarks: each prints its figures and its ratio against a baseline run in the same process."""
