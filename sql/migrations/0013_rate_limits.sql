-- Rate-limit counters shared by every API worker process (and every host of one database):
-- one row per (bucket, key) with the hits counted in its current window. UNLOGGED: the
-- counters are worth a minute or a day, not a crash-recovery pass or a place in the WAL (a
-- crash empties the table, which forgives everyone once). The key is stored as its sha256
-- (client addresses and the usernames people typed, sometimes a password by mistake, are
-- not kept in clear). Checked by rate_limit_hit() in sql/functions/rate_limits.sql.
CREATE UNLOGGED TABLE rate_limit (
    bucket      text NOT NULL,
    key_hash    bytea NOT NULL,
    window_end  timestamptz NOT NULL,
    hits        integer NOT NULL CHECK (hits > 0),
    PRIMARY KEY (bucket, key_hash)
);
