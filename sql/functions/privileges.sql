-- Least privilege for the API (re-applied on every upgrade, after every migration, so new
-- tables are covered). The API connects as `cadastre_api`: it logs in, owns nothing, is no
-- superuser and cannot bypass row-level security. It reads and writes the register through
-- ordinary privileges (history is guarded by triggers that refuse rewrites), never deletes,
-- cannot touch the audit log except to read it (rows are written by SECURITY DEFINER
-- functions), and reads personal data only through `party_personal_visible`, which shows
-- what the end user's role may see (the role the application sets per transaction with
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

-- Personal data as the transaction's end-user role may see it: nothing for analysts and the
-- public (no rows at all), names' owners' ID numbers masked to the last 3 digits and no
-- birth or address for clerks and supervisors, everything for land officers and admins.
CREATE OR REPLACE VIEW party_personal_visible WITH (security_barrier) AS
SELECT p.party_id,
       p.id_kind,
       CASE WHEN personal_data_role() IN ('land_officer', 'admin') THEN p.national_id
            WHEN length(p.national_id) > 3
            THEN repeat('•', length(p.national_id) - 3) || right(p.national_id, 3)
            ELSE repeat('•', length(p.national_id)) END AS national_id,
       CASE WHEN personal_data_role() IN ('land_officer', 'admin') THEN p.birth_year
            END AS birth_year,
       CASE WHEN personal_data_role() IN ('land_officer', 'admin') THEN p.address
            END AS address
FROM party_personal p
WHERE personal_data_role() IN ('land_officer', 'admin', 'supervisor', 'counter_clerk');


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
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO cadastre_api;
