-- Id reservation for bulk loads that link rows before COPY. When this transaction holds
-- the ACCESS EXCLUSIVE lock of the sequence's table (a bulk import), nobody else can take
-- ids from it, so one contiguous block is reserved at once; otherwise ids are taken one by
-- one, safe beside concurrent writers.
CREATE OR REPLACE FUNCTION reserve_ids(seq regclass, n integer)
RETURNS TABLE (id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    owner regclass;
    first_id bigint;
BEGIN
    IF n <= 0 THEN
        RETURN;
    END IF;
    SELECT d.refobjid::regclass INTO owner
    FROM pg_depend d
    WHERE d.classid = 'pg_class'::regclass AND d.objid = seq AND d.deptype IN ('a', 'i')
    LIMIT 1;
    IF owner IS NOT NULL AND EXISTS (
        SELECT 1 FROM pg_locks l
        WHERE l.locktype = 'relation' AND l.relation = owner AND l.pid = pg_backend_pid()
          AND l.mode = 'AccessExclusiveLock' AND l.granted) THEN
        first_id := nextval(seq);
        PERFORM setval(seq, first_id + n - 1);
        RETURN QUERY SELECT generate_series(first_id, first_id + n - 1);
    ELSE
        RETURN QUERY SELECT nextval(seq) FROM generate_series(1, n);
    END IF;
END;
$$;
