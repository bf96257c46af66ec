-- Id reservation for bulk loads that link rows before COPY. When this transaction holds
-- the ACCESS EXCLUSIVE lock of the sequence's table (a bulk import), nobody else can take
-- ids from it, so one contiguous block is reserved at once; otherwise ids are taken one by
-- one, safe beside concurrent writers.
CREATE OR REPLACE FUNCTION reserve_ids(seq regclass, n integer)
RETURNS TABLE (id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    first_id bigint := reserve_id_block(seq, n);
BEGIN
    IF first_id IS NOT NULL THEN
        RETURN QUERY SELECT generate_series(first_id, first_id + n - 1);
    ELSE
        RETURN QUERY SELECT nextval(seq) FROM generate_series(1, n);
    END IF;
END;
$$;

-- The first id of a block of n ids taken at once when this transaction holds the
-- ACCESS EXCLUSIVE lock of the sequence's table (see reserve_ids), NULL otherwise.
CREATE OR REPLACE FUNCTION reserve_id_block(seq regclass, n integer)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    owner regclass;
    first_id bigint;
BEGIN
    SELECT d.refobjid::regclass INTO owner
    FROM pg_depend d
    WHERE d.classid = 'pg_class'::regclass AND d.objid = seq AND d.deptype IN ('a', 'i')
    LIMIT 1;
    IF n > 0 AND owner IS NOT NULL AND EXISTS (
        SELECT 1 FROM pg_locks l
        WHERE l.locktype = 'relation' AND l.relation = owner AND l.pid = pg_backend_pid()
          AND l.mode = 'AccessExclusiveLock' AND l.granted) THEN
        first_id := nextval(seq);
        PERFORM setval(seq, first_id + n - 1);
        RETURN first_id;
    END IF;
    RETURN NULL;
END;
$$;

-- The check of the statement-level trigger check_version_overlap(), for a bulk load that
-- disabled the trigger while it COPYed: the rows begun by change `change` play the part of
-- the transition table. Same SQLSTATE (23P01) and message as the trigger.
CREATE OR REPLACE FUNCTION check_versions_begun_by(tab regclass, keys text, change bigint)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    inserted bigint;
    existing bigint;
    span tstzrange;
    any_closed boolean;
    table_name text := (SELECT relname FROM pg_class WHERE oid = tab);
BEGIN
    -- new versions against closed versions (open against open is the partial unique index);
    -- a first load has no closed versions at all: then there is nothing to join
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE NOT upper_inf(lifespan))', tab)
        INTO any_closed;
    IF NOT any_closed THEN
        RETURN;
    END IF;
    EXECUTE format(
        'SELECT n.version_id, o.version_id, o.lifespan '
        'FROM %s n JOIN %s o USING (%s) '
        'WHERE n.begun_by = $1 AND NOT upper_inf(o.lifespan) AND o.version_id <> n.version_id '
        'AND o.lifespan && n.lifespan LIMIT 1',
        tab, tab, keys) INTO inserted, existing, span USING change;
    -- new closed versions (history loads) against every version
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE NOT upper_inf(lifespan) '
                   'AND begun_by = $1)', tab) INTO any_closed USING change;
    IF inserted IS NULL AND any_closed THEN
        EXECUTE format(
            'SELECT n.version_id, o.version_id, o.lifespan '
            'FROM %s n JOIN %s o USING (%s) '
            'WHERE n.begun_by = $1 AND NOT upper_inf(n.lifespan) '
            'AND o.version_id <> n.version_id AND o.lifespan && n.lifespan LIMIT 1',
            tab, tab, keys) INTO inserted, existing, span USING change;
    END IF;
    IF inserted IS NOT NULL THEN
        RAISE EXCEPTION 'version % of % overlaps version % (%) of the same (%) in time',
            inserted, table_name, existing, span, keys
            USING ERRCODE = 'exclusion_violation',
                  CONSTRAINT = table_name || '_versions_do_not_overlap',
                  HINT = 'a new version begins when the previous one ends';
    END IF;
END;
$$;
