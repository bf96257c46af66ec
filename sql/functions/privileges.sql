-- Least privilege for the API (re-applied on every upgrade, after every migration, so new
-- tables are covered). The API connects as `cadastre_api`: it logs in, owns nothing, is no
-- superuser and cannot bypass row-level security. It reads and writes the register through
-- ordinary privileges (history is guarded by triggers that refuse rewrites), never deletes,
-- cannot touch the audit log except to read it (rows are written by SECURITY DEFINER
-- functions), and reads personal data only through `party_personal_visible` and
-- `party_visible` (names of people) and `search_holders()`, which show what the end user's
-- role may see (the role the application sets per transaction with
-- set_config('cadastre.role', ...); the same rule as cadastre/access.py, checked by
-- tests/api/test_least_privilege.py).

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

-- The token signing key exists before the API starts (the API may not write settings).
INSERT INTO database_setting (name, value)
SELECT 'token_signing_key', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')
WHERE NOT EXISTS (SELECT 1 FROM database_setting WHERE name = 'token_signing_key');

CREATE OR REPLACE FUNCTION personal_data_role() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('cadastre.role', true), ''), 'anonymous')
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

-- Personal data as the transaction's end-user role may see it: nothing for analysts and the
-- public (no rows at all), ID numbers masked to the last 3 digits and no birth or address
-- for clerks and supervisors, everything for land officers and admins.
CREATE OR REPLACE VIEW party_personal_visible WITH (security_barrier) AS
SELECT p.party_id,
       p.id_kind,
       CASE WHEN role_sees_all_personal_data() THEN p.national_id
            ELSE masked_id(p.national_id) END AS national_id,
       CASE WHEN role_sees_all_personal_data() THEN p.birth_year END AS birth_year,
       CASE WHEN role_sees_all_personal_data() THEN p.address END AS address
FROM party_personal p
WHERE role_sees_names();

-- Names of people (individuals, households, groups of heirs) as the role may see them;
-- organisations' and communities' names are not personal data.
CREATE OR REPLACE VIEW party_visible WITH (security_barrier) AS
SELECT p.id, p.kind, p.organisation_code, p.created_at,
       CASE WHEN p.kind NOT IN ('individual', 'household', 'group') OR role_sees_names()
            THEN p.name END AS name
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
    WHERE role_sees_names()
      AND search_text(h.name) LIKE '%' || search_text(query) || '%'
    ORDER BY 8 DESC, p.parcel_id LIMIT max_rows
$$;

-- A dossier's applicant as the role may see them (the same matrix: name and phone for staff
-- who see names, the ID number masked for clerks and supervisors, the address for land
-- officers and admins). Sessions of other database users (the owner's commands and imports)
-- see the columns as they are.
CREATE OR REPLACE VIEW dossier_applicant_visible WITH (security_barrier) AS
SELECT d.id,
       CASE WHEN current_user <> 'cadastre_api' OR role_sees_names()
            THEN d.applicant_name END AS applicant_name,
       CASE WHEN current_user <> 'cadastre_api' OR role_sees_all_personal_data()
            THEN d.applicant_id_number
            WHEN role_sees_names() THEN masked_id(d.applicant_id_number)
            END AS applicant_id_number,
       CASE WHEN current_user <> 'cadastre_api' OR role_sees_names()
            THEN d.applicant_phone END AS applicant_phone,
       CASE WHEN current_user <> 'cadastre_api' OR role_sees_all_personal_data()
            THEN d.applicant_address END AS applicant_address
FROM dossier d;

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
    USING (personal_data_role() IN ('supervisor', 'admin'));

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO cadastre_api',
                   current_database());
END;
$$;
GRANT USAGE ON SCHEMA public TO cadastre_api;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM cadastre_api;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO cadastre_api;
REVOKE INSERT, UPDATE ON audit_log, schema_migration, database_setting, spatial_ref_sys
    FROM cadastre_api;
REVOKE ALL ON party_personal FROM cadastre_api;
REVOKE SELECT, UPDATE ON party FROM cadastre_api;  -- names through party_visible
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
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO cadastre_api;
