"""Rate limits whose counters live in PostgreSQL, so that every worker process shares them."""
