"""Realistic demo data for `make demo`."""
