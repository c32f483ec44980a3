"""Reproducible performance runs of the TMDb import against a local sandbox.

`python -m benchmarks --quick --json PATH` (at most 5 minutes) or `make bench` (the full run); see
BENCHMARKS.md for the results, what bounds each figure and how to read them. One module per
measurement; harness.py starts the sandboxes, warehouses and the child processes that import.
"""
