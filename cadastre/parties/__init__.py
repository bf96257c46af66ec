"""Parties (người sử dụng đất): individuals, households, organisations, groups."""
