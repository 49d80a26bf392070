"""Benchmarks (never tests): `python -m bench.lookup`, see bench/README.md."""
