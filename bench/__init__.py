"""Benchmarks: ``python -m bench.<name>`` prints a table; figures go in docs/benchmarks.md."""
