"""Benchmarks: `make bench` (all) or `python -m benchmarks NAME` (one)."""
