"""The audit trail: who wrote what, and who read whose personal data."""
