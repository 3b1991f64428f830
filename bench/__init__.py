"""Benchmarks: `make bench` runs every `bench_*.py` here through `bench/run.py`."""
