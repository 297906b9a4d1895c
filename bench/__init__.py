"""Benchmarks: `python -m bench` (or `make bench`) runs the short versions and prints a table.

Figures and how to read them are in docs/benchmarks.md. No timed unit tests: speed is
measured here, never asserted in the test suite."""
