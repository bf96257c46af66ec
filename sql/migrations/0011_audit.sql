-- Audit trail: every write (who, when, what, before and after, from which dossier) and every
-- read of personal data (who, which party, why). Append-only: a trigger refuses UPDATE,
-- DELETE and TRUNCATE for everyone, and the API's database role gets no write privilege on
-- it at all (rows are written by the SECURITY DEFINER functions below).
--
-- Who: the application passes the end user per transaction with
--   set_config('cadastre.actor', username, true), 'cadastre.role', 'cadastre.endpoint',
--   'cadastre.dossier'
-- (cadastre.audit.act_as). Without them the database session user is recorded.

CREATE TABLE audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor           text NOT NULL,
    actor_role      text,
    db_user         text NOT NULL DEFAULT session_user,
    action          text NOT NULL CHECK (action IN ('insert', 'update', 'delete',
                        'bulk_insert', 'read_personal')),
    table_name      text,
    row_key         jsonb,
    before          jsonb,
    after           jsonb,
    party_id        bigint,              -- the person whose data was read
    endpoint        text,                -- e.g. "GET /api/v1/parcels/{parcel_id}"
    dossier_code    text,
    reason          text,
    transaction_id  bigint NOT NULL DEFAULT txid_current()
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, at);
CREATE INDEX audit_log_party_idx ON audit_log (party_id, at) WHERE party_id IS NOT NULL;
CREATE INDEX audit_log_dossier_idx ON audit_log (dossier_code) WHERE dossier_code IS NOT NULL;

CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'CD001';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE FUNCTION audit_setting(name text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('cadastre.' || name, true), '')
$$;

-- The row trigger of every audited table (attached by sql/functions/audit.sql).
-- Secrets never enter the log; the primary key of the row is kept apart for searching.
CREATE FUNCTION audit_row() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    old_row jsonb;
    new_row jsonb;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_row := to_jsonb(OLD) - 'password_hash' - 'key_hash';
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_row := to_jsonb(NEW) - 'password_hash' - 'key_hash';
    END IF;
    INSERT INTO audit_log (actor, actor_role, action, table_name, row_key, before, after,
                           party_id, endpoint, dossier_code)
    VALUES (coalesce(audit_setting('actor'), session_user), audit_setting('role'),
            lower(TG_OP), TG_TABLE_NAME,
            jsonb_strip_nulls(jsonb_build_object(
                'id', coalesce(new_row, old_row) -> 'id',
                'version_id', coalesce(new_row, old_row) -> 'version_id',
                'parcel_id', coalesce(new_row, old_row) -> 'parcel_id',
                'code', coalesce(new_row, old_row) -> 'code')),
            old_row, new_row,
            CASE TG_TABLE_NAME
                WHEN 'party' THEN (coalesce(new_row, old_row) ->> 'id')::bigint
                WHEN 'party_personal' THEN (coalesce(new_row, old_row) ->> 'party_id')::bigint
            END,
            audit_setting('endpoint'),
            coalesce(audit_setting('dossier'), coalesce(new_row, old_row) ->> 'dossier_code',
                     CASE TG_TABLE_NAME WHEN 'dossier' THEN coalesce(new_row, old_row) ->> 'code'
                     END));
    RETURN NULL;
END;
$$;

-- A read of personal data, one row per party shown (or per dossier whose applicant was shown).
CREATE FUNCTION audit_personal_read(actor text, actor_role text, endpoint text,
                                    dossier_code text, party_ids bigint[], tab text,
                                    row_key jsonb, reason text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO audit_log (actor, actor_role, action, table_name, row_key, party_id, endpoint,
                           dossier_code, reason)
    SELECT actor, actor_role, 'read_personal', tab, row_key, p, endpoint, dossier_code, reason
    FROM unnest(CASE WHEN cardinality(party_ids) > 0 THEN party_ids
                     ELSE ARRAY[NULL::bigint] END) AS p
$$;

-- A bulk load sets the row triggers aside (cadastre.bulk.integrity_rebuilt_after) and
-- records one row per table instead: how many rows the change began and ended there. The
-- rows themselves are immutable versions named by the change, so before and after stay
-- readable for ever.
CREATE FUNCTION audit_bulk_insert(tab text, change bigint, inserted bigint, ended bigint)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO audit_log (actor, actor_role, action, table_name, after, endpoint, dossier_code,
                           reason)
    VALUES (coalesce(audit_setting('actor'), session_user), audit_setting('role'),
            'bulk_insert', tab,
            jsonb_build_object('rows_inserted', inserted, 'versions_ended', ended,
                               'change_id', change),
            audit_setting('endpoint'), audit_setting('dossier'),
            'bulk load: the rows are those of change ' || change)
$$;
