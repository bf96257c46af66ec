"""Benchmarks against named peers on the same data, in the same run (`make bench`)."""
