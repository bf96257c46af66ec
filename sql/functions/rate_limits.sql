-- Rate limits shared by every API worker (re-applied on every upgrade; sorts after
-- privileges.sql, which first revokes everything from cadastre_api, so the grants below
-- survive). Each bucket counts hits per key in a fixed window that opens at the key's first
-- hit: at most `limit` hits from then until the window ends, then a new window opens. A
-- refused hit counts too, but does not move the window's end.

-- One hit on each (bucket, key) given, in one statement (the keys as their sha256, computed
-- by the caller: a key is whatever a stranger typed, NUL characters included). Returns the buckets whose key went
-- over its limit, each with the seconds until its window ends (Retry-After); no rows when
-- every key is within its limit. The rows are locked in (bucket, key) order, so concurrent
-- calls cannot deadlock. About every 500th call also deletes the windows that ended (the
-- table stays as small as the number of keys seen in the longest window).
CREATE OR REPLACE FUNCTION rate_limit_hit(buckets text[], key_hashes bytea[], limits integer[],
                                          windows_s integer[])
RETURNS TABLE (bucket text, retry_after integer)
LANGUAGE plpgsql VOLATILE SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
    IF random() < 0.002 THEN
        DELETE FROM rate_limit AS old WHERE old.window_end < now();
    END IF;
    RETURN QUERY
    WITH wanted AS (
        SELECT t.b AS bucket, t.k AS key_hash, t.l AS max_hits,
               make_interval(secs => t.w) AS span
        FROM unnest(buckets, key_hashes, limits, windows_s) AS t(b, k, l, w)
    ), hit AS (
        INSERT INTO rate_limit AS r (bucket, key_hash, window_end, hits)
        SELECT DISTINCT ON (w.bucket, w.key_hash) w.bucket, w.key_hash, now() + w.span, 1
        FROM wanted w ORDER BY w.bucket, w.key_hash
        ON CONFLICT ON CONSTRAINT rate_limit_pkey DO UPDATE
            SET hits = CASE WHEN r.window_end <= now() THEN 1
                            ELSE least(r.hits, 2147483646) + 1 END,
                window_end = CASE WHEN r.window_end <= now() THEN excluded.window_end
                                  ELSE r.window_end END
        RETURNING r.bucket, r.key_hash, r.hits, r.window_end
    )
    SELECT DISTINCT hit.bucket,
           greatest(ceil(extract(epoch FROM hit.window_end - now())), 1)::integer
    FROM hit JOIN wanted w ON w.bucket = hit.bucket AND w.key_hash = hit.key_hash
    WHERE hit.hits > w.max_hits;
END;
$$;

REVOKE ALL ON FUNCTION rate_limit_hit(text[], bytea[], integer[], integer[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rate_limit_hit(text[], bytea[], integer[], integer[]) TO cadastre_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limit TO cadastre_api;
