"""Benchmarks: one script per area, `python -m bench.bench_<area>`."""
