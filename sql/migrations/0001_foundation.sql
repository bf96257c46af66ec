-- Foundation: extensions and the history guard shared by every versioned table.
-- Storage SRID placeholder {{storage_srid}} is substituted by the migration runner with the
-- value fixed at `cadastre db init --srid N` (recorded in database_setting).

CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS btree_gist;   -- "=" on scalars inside GiST exclusion constraints
CREATE EXTENSION IF NOT EXISTS unaccent;     -- accent-insensitive Vietnamese search
CREATE EXTENSION IF NOT EXISTS pg_trgm;      -- fuzzy search on names and addresses

-- History is never overwritten (LADM VersionedObject). A version row may only be *closed*:
-- its lifespan's open upper bound set once, with ended_by naming the change that closed it.
-- Anything else (editing attributes, reopening, deleting) raises SQLSTATE CD001.
CREATE FUNCTION guard_version_history() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    probe record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('cadastre.allow_purge', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'history is append-only: % rows are never deleted', TG_TABLE_NAME
            USING ERRCODE = 'CD001', HINT = 'end the version with a change instead';
    END IF;
    IF NOT upper_inf(OLD.lifespan) THEN
        RAISE EXCEPTION 'version % of % is already closed (%): history is never overwritten',
            OLD.version_id, TG_TABLE_NAME, OLD.lifespan
            USING ERRCODE = 'CD001';
    END IF;
    probe := jsonb_populate_record(NEW, jsonb_build_object('lifespan', OLD.lifespan,
                                                            'ended_by', OLD.ended_by));
    IF probe IS DISTINCT FROM OLD THEN
        RAISE EXCEPTION 'version % of % may only be closed, not edited', OLD.version_id, TG_TABLE_NAME
            USING ERRCODE = 'CD001', HINT = 'begin a new version with a change instead';
    END IF;
    IF lower(NEW.lifespan) IS DISTINCT FROM lower(OLD.lifespan) OR upper_inf(NEW.lifespan)
       OR NEW.ended_by IS NULL THEN
        RAISE EXCEPTION 'closing version % of % must keep its start and name the ending change',
            OLD.version_id, TG_TABLE_NAME
            USING ERRCODE = 'CD001';
    END IF;
    RETURN NEW;
END;
$$;

-- Two versions of one object never overlap in time. Measured on 1M parcels, GiST exclusion
-- constraints (btree_gist, `EXCLUDE (parcel_id WITH =, lifespan WITH &&)`) cost 34 s and
-- 106 s per million inserted rows; so each versioned table instead has
--   * a partial UNIQUE index on its id over open versions (one current version, enforced
--     concurrently by the index), and
--   * this statement-level trigger, which checks the inserted versions against the closed
--     versions of the same key (a partial index keeps that set small) and, when closed
--     versions are inserted directly (history loads, serialised by an advisory lock),
--     against every version.
-- TG_ARGV[0] names the key columns, e.g. 'parcel_id' or 'commune_code, sheet_number, ...'.
-- Raises SQLSTATE 23P01 (exclusion_violation) like the constraint it replaces.
CREATE FUNCTION check_version_overlap() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    keys text := TG_ARGV[0];
    inserted bigint;
    existing bigint;
    span tstzrange;
    any_closed boolean;
BEGIN
    -- (a first load has no closed versions at all: then there is nothing to join)
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I WHERE NOT upper_inf(lifespan))',
                   TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO any_closed;
    IF any_closed THEN
        EXECUTE format(
            'SELECT n.version_id, o.version_id, o.lifespan '
            'FROM new_rows n JOIN %I.%I o USING (%s) '
            'WHERE NOT upper_inf(o.lifespan) AND o.version_id <> n.version_id '
            'AND o.lifespan && n.lifespan LIMIT 1',
            TG_TABLE_SCHEMA, TG_TABLE_NAME, keys) INTO inserted, existing, span;
    END IF;
    IF inserted IS NULL AND EXISTS (SELECT 1 FROM new_rows WHERE NOT upper_inf(lifespan)) THEN
        PERFORM pg_advisory_xact_lock(hashtext('cadastre.history.' || TG_TABLE_NAME));
        EXECUTE format(
            'SELECT n.version_id, o.version_id, o.lifespan '
            'FROM new_rows n JOIN %I.%I o USING (%s) '
            'WHERE NOT upper_inf(n.lifespan) AND o.version_id <> n.version_id '
            'AND o.lifespan && n.lifespan LIMIT 1',
            TG_TABLE_SCHEMA, TG_TABLE_NAME, keys) INTO inserted, existing, span;
    END IF;
    IF inserted IS NOT NULL THEN
        RAISE EXCEPTION 'version % of % overlaps version % (%) of the same (%) in time',
            inserted, TG_TABLE_NAME, existing, span, keys
            USING ERRCODE = 'exclusion_violation',
                  CONSTRAINT = TG_TABLE_NAME || '_versions_do_not_overlap',
                  HINT = 'a new version begins when the previous one ends';
    END IF;
    RETURN NULL;
END;
$$;

-- Rows that belong to one version (land-use purposes, certificate coverage, lineage) are
-- immutable once written.
CREATE FUNCTION forbid_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('cadastre.allow_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% rows are immutable: history is never overwritten', TG_TABLE_NAME
        USING ERRCODE = 'CD001';
END;
$$;
