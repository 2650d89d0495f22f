"""Benchmarks: each module prints one JSON line per result and writes bench/results/."""
