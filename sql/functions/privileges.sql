-- Least privilege for the API (re-applied on every upgrade, after every migration, so new
-- tables are covered). The API connects as `cadastre_api`: it logs in, owns nothing, is no
-- superuser and cannot bypass row-level security. It reads and writes the register through
-- ordinary privileges (history is guarded by triggers that refuse rewrites), never deletes,
-- cannot touch the audit log except to read it (rows are written by SECURITY DEFINER
-- functions), and reads personal data only through `party_personal_visible` and
-- `party_visible` (names of people) and `search_holders()`, which show what the end user's
-- role may see (the role the application sets per transaction with
-- the role the database accepts for the transaction: personal_data_role(), sealed by
-- auth_act() in sql/functions/auth.sql, never a setting the API could write itself; the same
-- rule as cadastre/access.py, checked by tests/api/test_least_privilege.py and
-- tests/api/test_trust.py). SECURITY DEFINER functions are owned by `cadastre_definer` or
-- `cadastre_auth`, NOLOGIN roles that are not superusers.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cadastre_api') THEN
        CREATE ROLE cadastre_api LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS
            NOREPLICATION;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- created meanwhile by another database's upgrade on the same server
END;
$$;

-- The role matrix of cadastre/access.py, once: which roles see people's names (and phones),
-- which see everything (full ID numbers, birth years, addresses); the others see none.
CREATE OR REPLACE FUNCTION role_sees_names() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT personal_data_role() IN ('land_officer', 'admin', 'supervisor', 'counter_clerk')
$$;

CREATE OR REPLACE FUNCTION role_sees_all_personal_data() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT personal_data_role() IN ('land_officer', 'admin')
$$;

-- An ID number masked to its last 3 digits (cadastre.access.mask_national_id).
CREATE OR REPLACE FUNCTION masked_id(value text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN length(value) > 3 THEN repeat('•', length(value) - 3) || right(value, 3)
                ELSE repeat('•', length(value)) END
$$;

-- The *_visible views hide columns, not rows (party_personal_visible's one filter is the
-- role itself, on the one row of personal_sight(), joined before any party row): each masked
-- column is a CASE on the proven role, so whatever a query adds to them (even a function
-- of its own, in pg_temp) sees the masked value, never the column under it. They are
-- therefore not security barriers: a barrier only orders row filters, and it kept the
-- planner from joining into them by index (land_right JOIN party_visible scanned all 1.2M
-- parties, 220 ms per parcel file on a 1M-parcel register; docs/architecture.md,
-- "Masking views"). tests/api/test_least_privilege.py tries a leaking function.
--
-- Personal data as the transaction's end-user role may see it: nothing for analysts and the
-- public (no rows at all), ID numbers masked to the last 3 digits, the nationality, and no
-- birth, sex, address or contact for clerks and supervisors, everything for land officers
-- and admins (cadastre.access: phone and e-mail go with the addresses). Trusted sessions
-- (the owner's commands) see the columns as they are.
-- What the proven role may see, computed once per query that reads a view below: a
-- function in FROM keeps its row for the query (a rescan reads it again, the function is
-- not called again), where a (SELECT ...) per masked column made eight seal checks per
-- read, 0.15-0.4 ms of every parcel file (docs/benchmarks.md, "Parcel file"). PL/pgSQL,
-- so the planner cannot inline it back into every column.
CREATE OR REPLACE FUNCTION personal_sight(OUT names boolean, OUT everything boolean)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    trusted boolean := auth_trusted_session();
BEGIN
    names := trusted OR role_sees_names();
    everything := trusted OR role_sees_all_personal_data();
END;
$$;

CREATE OR REPLACE VIEW party_personal_visible WITH (security_barrier = false) AS
SELECT p.party_id,
       -- every column but the id is a CASE on s, also those the roles that see rows see
       -- whole: a filter a query adds on a bare column could run before the join that
       -- keeps no row for the others (the id is no secret: party_visible lists them)
       CASE WHEN s.names THEN p.id_kind END AS id_kind,
       CASE WHEN s.everything THEN p.national_id ELSE masked_id(p.national_id) END
           AS national_id,
       CASE WHEN s.everything THEN p.birth_year END AS birth_year,
       CASE WHEN s.everything THEN p.address END AS address,
       CASE WHEN s.names THEN p.nationality END AS nationality,
       CASE WHEN s.everything THEN p.birth_date END AS birth_date,
       CASE WHEN s.everything THEN p.gender END AS gender,
       CASE WHEN s.everything THEN p.phone END AS phone,
       CASE WHEN s.everything THEN p.email END AS email
FROM party_personal p, personal_sight() s
WHERE s.names;

-- Names of people (individuals, households, groups of heirs, overseas Vietnamese,
-- foreigners: party_kind_is_person in parties.sql) as the role may see them; organisations',
-- religious organisations' and communities' names are not personal data.
CREATE OR REPLACE VIEW party_visible WITH (security_barrier = false) AS
SELECT p.id, p.kind, p.organisation_code, p.created_at,
       CASE WHEN NOT party_kind_is_person(p.kind)
                 OR (SELECT auth_trusted_session() OR role_sees_names()) THEN p.name END
           AS name,
       p.row_version, p.created_by, p.edited_at, p.edited_by, p.merged_into, p.merged_by
FROM party p;

-- Accent-insensitive search over holders' names, for roles that may see names (the
-- function checks; it runs as the owner so that the trigram index on party names serves).
CREATE OR REPLACE FUNCTION search_holders(query text, max_rows integer)
RETURNS TABLE (parcel_id bigint, commune_code text, sheet_number text, parcel_number integer,
               address text, party_id bigint, holder text, score real)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT p.parcel_id, p.commune_code, p.sheet_number, p.parcel_number, p.address, h.id,
           h.name, similarity(search_text(h.name), search_text(query))
    FROM party h JOIN current_land_right r ON r.party_id = h.id
    JOIN current_parcel p ON p.parcel_id = r.parcel_id
    WHERE (SELECT role_sees_names())
      AND search_text(h.name) LIKE '%' || search_text(query) || '%'
    ORDER BY 8 DESC, p.parcel_id LIMIT max_rows
$$;

-- A dossier's applicant as the role may see them (the same matrix: name and phone for staff
-- who see names, the ID number masked for clerks and supervisors, the address for land
-- officers and admins). Trusted sessions (the owner's commands and imports) see the columns
-- as they are.
CREATE OR REPLACE VIEW dossier_applicant_visible WITH (security_barrier = false) AS
SELECT d.id,
       CASE WHEN s.names THEN d.applicant_name END AS applicant_name,
       CASE WHEN s.everything THEN d.applicant_id_number
            WHEN s.names THEN masked_id(d.applicant_id_number) END AS applicant_id_number,
       CASE WHEN s.names THEN d.applicant_phone END AS applicant_phone,
       CASE WHEN s.everything THEN d.applicant_address END AS applicant_address
FROM dossier d, personal_sight() s;  -- the role once per query, as party_personal_visible

-- The citizen's proof (last 4 digits of the phone or ID number on the receipt), answered
-- without showing either.
CREATE OR REPLACE FUNCTION dossier_verifies(dossier_code text, digits text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce(bool_or(digits ~ '^[0-9]{4}$' AND (
               (length(applicant_phone) >= 4 AND right(applicant_phone, 4) = digits)
            OR (length(applicant_id_number) >= 4 AND right(applicant_id_number, 4) = digits))),
           false)
    FROM dossier WHERE code = dossier_code
$$;

-- The audit log: readable by the API only inside transactions of supervisors and admins.
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS audit_log_readers ON audit_log;
CREATE POLICY audit_log_readers ON audit_log FOR SELECT TO cadastre_api
    USING ((SELECT personal_data_role()) IN ('supervisor', 'admin'));
-- rows come from the audit functions, owned by cadastre_definer
DROP POLICY IF EXISTS audit_log_writers ON audit_log;
CREATE POLICY audit_log_writers ON audit_log FOR INSERT TO cadastre_definer WITH CHECK (true);

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO cadastre_api',
                   current_database());
END;
$$;
GRANT USAGE ON SCHEMA public TO cadastre_api;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM cadastre_api;
-- Reads: tables and views, but not what the API may see only through a view or a function.
-- (Views get SELECT only: a simple view owned by the migrating role is auto-updatable with
-- the owner's privileges, so INSERT or UPDATE on it would bypass the table's own grants.)
GRANT SELECT ON ALL TABLES IN SCHEMA public TO cadastre_api;
REVOKE ALL ON party_personal, app_user, api_key, auth_signing_key FROM cadastre_api;
REVOKE SELECT ON party FROM cadastre_api;  -- names through party_visible
GRANT SELECT (id, kind, organisation_code, created_at) ON party TO cadastre_api;
DO $$  -- a dossier's applicant columns through dossier_applicant_visible only
BEGIN
    EXECUTE 'REVOKE SELECT ON dossier FROM cadastre_api';
    EXECUTE (SELECT format('GRANT SELECT (%s) ON dossier TO cadastre_api',
                           string_agg(quote_ident(attname), ', '))
             FROM pg_attribute WHERE attrelid = 'dossier'::regclass AND attnum > 0
               AND NOT attisdropped AND attname NOT LIKE 'applicant\_%');
END;
$$;
-- Writes: new facts of the register and closing a version (the history triggers refuse any
-- other UPDATE; the write rules below refuse roles that may not change the register), the
-- one-stop service, export jobs. Never DELETE or TRUNCATE; no UPDATE of a change, a
-- document, a lineage link or another fact that is never closed.
GRANT INSERT ON source_document, change_transaction, change_source, parcel_identity, parcel,
    parcel_lineage, parcel_land_use, certificate, certificate_parcel, land_right, restriction,
    responsibility, map_sheet, party_member TO cadastre_api;
GRANT UPDATE ON parcel, certificate, land_right, restriction, responsibility, map_sheet,
    party_member TO cadastre_api;
-- a change locks the parcel's identity row (SELECT ... FOR UPDATE needs UPDATE); the row
-- itself is immutable (trigger below)
GRANT UPDATE ON parcel_identity TO cadastre_api;
GRANT INSERT, UPDATE ON dossier, dossier_sequence, feedback, export_job TO cadastre_api;
GRANT INSERT ON dossier_event, apology_letter TO cadastre_api;
GRANT UPDATE ON procedure TO cadastre_api;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM cadastre_api;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO cadastre_api;

-- --- who may write what (the database checks the proven role, sql/functions/auth.sql) ----
-- A statement on the register by the API is refused unless the caller's proven role may
-- change the register; trusted sessions (commands, imports) pass.
CREATE OR REPLACE FUNCTION write_rule() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    who text;
BEGIN
    IF auth_trusted_session() THEN
        RETURN NULL;
    END IF;
    who := personal_data_role();
    IF who = ANY (TG_ARGV) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the % role may not % %', who, lower(TG_OP), TG_TABLE_NAME
        USING ERRCODE = '42501', HINT = 'the database checks the role the caller proved';
END;
$$;

-- The one-stop service: staff write dossiers; a citizen (the public, unproven) may only
-- rate a returned dossier once, and send feedback.
CREATE OR REPLACE FUNCTION dossier_write_rule() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF auth_trusted_session()
       OR personal_data_role() IN ('counter_clerk', 'land_officer', 'supervisor', 'admin') THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = 'returned' AND OLD.rating IS NULL
       AND NEW.rating IS NOT NULL
       AND to_jsonb(NEW) - 'rating' - 'rating_comment' - 'row_version'
           = to_jsonb(OLD) - 'rating' - 'rating_comment' - 'row_version' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the % role may not % dossier %', personal_data_role(), lower(TG_OP),
        coalesce(NEW.code, OLD.code)
        USING ERRCODE = '42501', HINT = 'the database checks the role the caller proved';
END;
$$;

-- An answered feedback is a closed fact: its answer is never rewritten, by anybody; the
-- answer is given, and the item assigned to an officer, by staff of the feedback's office
-- (admins: any), and names the account that proved it gave it.
CREATE OR REPLACE FUNCTION feedback_write_rule() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.answered_at IS NOT NULL THEN
            RAISE EXCEPTION 'feedback % was answered on %: an answer is never rewritten',
                OLD.code, OLD.answered_at USING ERRCODE = 'CD001';
        END IF;
        IF NOT auth_trusted_session() THEN
            IF personal_data_role() NOT IN ('counter_clerk', 'land_officer', 'supervisor',
                                            'admin') THEN
                RAISE EXCEPTION 'the % role may not answer feedback', personal_data_role()
                    USING ERRCODE = '42501';
            END IF;
            IF personal_data_role() <> 'admin'
               AND proven_office() IS DISTINCT FROM OLD.office_code THEN
                RAISE EXCEPTION 'feedback % is answered by office %', OLD.code, OLD.office_code
                    USING ERRCODE = '42501';
            END IF;
            IF to_jsonb(NEW) - 'answer' - 'answered_at' - 'answered_by' - 'assigned_to'
                   - 'assigned_at' - 'assigned_by'
               IS DISTINCT FROM to_jsonb(OLD) - 'answer' - 'answered_at' - 'answered_by'
                   - 'assigned_to' - 'assigned_at' - 'assigned_by' THEN
                RAISE EXCEPTION 'only the answer of feedback % may be given', OLD.code
                    USING ERRCODE = '42501';
            END IF;
            IF NEW.answered_at IS NOT NULL THEN
                NEW.answered_by := proven_actor();
            END IF;
            IF NEW.assigned_to IS DISTINCT FROM OLD.assigned_to THEN
                NEW.assigned_by := proven_actor();
            END IF;
        END IF;
    ELSIF NOT auth_trusted_session() AND NEW.answered_at IS NOT NULL THEN
        RAISE EXCEPTION 'new feedback has no answer yet' USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END;
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['parcel_identity', 'parcel', 'parcel_lineage', 'parcel_land_use',
                             'certificate', 'certificate_parcel', 'land_right', 'restriction',
                             'responsibility', 'map_sheet'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS write_rule ON %I', t);
        EXECUTE format('CREATE TRIGGER write_rule BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE '
                       'ON %I FOR EACH STATEMENT EXECUTE FUNCTION '
                       'write_rule(''land_officer'', ''supervisor'', ''admin'')', t);
    END LOOP;
    -- the party register: counter clerks create and edit parties and households' members
    -- (a member's change is of the kinds that change_kind_rule lets them record)
    FOREACH t IN ARRAY ARRAY['party', 'party_personal', 'party_member'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS write_rule ON %I', t);
        EXECUTE format('CREATE TRIGGER write_rule BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE '
                       'ON %I FOR EACH STATEMENT EXECUTE FUNCTION '
                       'write_rule(''land_officer'', ''counter_clerk'', ''admin'')', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['source_document', 'change_transaction', 'change_source'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS write_rule ON %I', t);
        EXECUTE format('CREATE TRIGGER write_rule BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE '
                       'ON %I FOR EACH STATEMENT EXECUTE FUNCTION write_rule(''land_officer'', '
                       '''supervisor'', ''admin'', ''counter_clerk'')', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['dossier_event', 'dossier_sequence', 'apology_letter'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS write_rule ON %I', t);
        EXECUTE format('CREATE TRIGGER write_rule BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE '
                       'ON %I FOR EACH STATEMENT EXECUTE FUNCTION write_rule(''counter_clerk'', '
                       '''land_officer'', ''supervisor'', ''admin'')', t);
    END LOOP;
END;
$$;
DROP TRIGGER IF EXISTS write_rule ON procedure;
CREATE TRIGGER write_rule BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON procedure
    FOR EACH STATEMENT EXECUTE FUNCTION write_rule('admin');
DROP TRIGGER IF EXISTS write_rule ON dossier;
CREATE TRIGGER write_rule BEFORE INSERT OR UPDATE ON dossier
    FOR EACH ROW EXECUTE FUNCTION dossier_write_rule();
DROP TRIGGER IF EXISTS write_rule ON feedback;
CREATE TRIGGER write_rule BEFORE INSERT OR UPDATE ON feedback
    FOR EACH ROW EXECUTE FUNCTION feedback_write_rule();

-- Changes, their documents and their links are facts that are never closed: immutable once
-- written (the versions they begin and end carry the history).
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['change_transaction', 'source_document', 'change_source',
                             'parcel_identity'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_immutable', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW '
                       'EXECUTE FUNCTION forbid_rewrite()', t || '_immutable', t);
    END LOOP;
END;
$$;

-- `cadastre.allow_purge` (a command removing what a failed load left behind) is honoured in
-- trusted sessions only: the API can write the setting, so it must not count there.
CREATE OR REPLACE FUNCTION guard_version_history() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    probe record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('cadastre.allow_purge', true) = 'on' AND auth_trusted_session() THEN
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

CREATE OR REPLACE FUNCTION forbid_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('cadastre.allow_purge', true) = 'on'
       AND auth_trusted_session() THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% rows are immutable: history is never overwritten', TG_TABLE_NAME
        USING ERRCODE = 'CD001';
END;
$$;

-- --- the audit trail records the proven end user, never one the API names ---------------
CREATE OR REPLACE FUNCTION audit_row() RETURNS trigger
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
    VALUES (proven_actor(), personal_data_role(),
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

-- A read of personal data. The actor and role passed in count only in trusted sessions;
-- the API's reads are recorded as the proven end user, and an unproven session (which
-- is shown no personal data) cannot add read records at all.
CREATE OR REPLACE FUNCTION audit_personal_read(actor text, actor_role text, endpoint text,
                                               dossier_code text, party_ids bigint[], tab text,
                                               row_key jsonb, reason text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    trusted boolean := auth_trusted_session();
    who text;
    seen_as text;
BEGIN
    IF trusted THEN
        who := coalesce(actor, proven_actor());
        seen_as := coalesce(actor_role, personal_data_role());
    ELSIF auth_seal_holds() THEN  -- one seal check: what proven_actor() and
        -- personal_data_role() would answer under a seal that holds
        who := current_setting('cadastre.actor', true);
        seen_as := coalesce(nullif(current_setting('cadastre.role', true), ''), 'anonymous');
    ELSE
        RAISE EXCEPTION 'no proven end user: reads of personal data are recorded for one'
            USING ERRCODE = '42501';
    END IF;
    INSERT INTO audit_log (actor, actor_role, action, table_name, row_key, party_id, endpoint,
                           dossier_code, reason)
    SELECT who, seen_as, 'read_personal', tab, row_key, p, endpoint, dossier_code, reason
    FROM unnest(CASE WHEN cardinality(party_ids) > 0 THEN party_ids
                     ELSE ARRAY[NULL::bigint] END) AS p;
END;
$$;

CREATE OR REPLACE FUNCTION audit_bulk_insert(tab text, change bigint, inserted bigint, ended bigint)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO audit_log (actor, actor_role, action, table_name, after, endpoint, dossier_code,
                           reason)
    VALUES (proven_actor(), personal_data_role(),
            'bulk_insert', tab,
            jsonb_build_object('rows_inserted', inserted, 'versions_ended', ended,
                               'change_id', change),
            audit_setting('endpoint'), audit_setting('dossier'),
            'bulk load: the rows are those of change ' || change)
$$;

-- --- owners of the SECURITY DEFINER functions: NOLOGIN roles that are not superusers -------
GRANT USAGE ON SCHEMA public TO cadastre_definer;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO cadastre_definer;
REVOKE ALL ON app_user, api_key, auth_signing_key FROM cadastre_definer;
GRANT INSERT ON audit_log TO cadastre_definer;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO cadastre_definer;
ALTER FUNCTION audit_row() OWNER TO cadastre_definer;
ALTER FUNCTION audit_personal_read(text, text, text, text, bigint[], text, jsonb, text)
    OWNER TO cadastre_definer;
ALTER FUNCTION audit_bulk_insert(text, bigint, bigint, bigint) OWNER TO cadastre_definer;
ALTER FUNCTION search_holders(text, integer) OWNER TO cadastre_definer;
ALTER FUNCTION dossier_verifies(text, text) OWNER TO cadastre_definer;
REVOKE ALL ON FUNCTION audit_bulk_insert(text, bigint, bigint, bigint) FROM PUBLIC;
-- What the API may call of cadastre_auth's (sql/functions/auth.sql revokes them from PUBLIC).
GRANT EXECUTE ON FUNCTION auth_sign_in(text, text, integer), auth_verify(text),
    auth_act(text, text, text), auth_users() TO cadastre_api;
