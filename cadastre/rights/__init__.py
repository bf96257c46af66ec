"""Rights, restrictions, responsibilities (LADM RRR) and certificates (GCN)."""
