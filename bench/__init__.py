"""The benchmark: `python -m bench.run` prints a table and writes BENCHMARKS.md and bench/results/."""
