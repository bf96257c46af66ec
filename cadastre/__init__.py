"""Land-records and cadastral database: LADM (ISO 19152) with a Vietnamese profile."""

__version__ = "0.1.0"
