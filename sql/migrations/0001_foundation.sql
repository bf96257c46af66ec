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
