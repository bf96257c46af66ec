-- Least privilege for offices, delegations and the feedback queue (after privileges.sql,
-- which revoked everything and granted reads). Offices are edited by admins; delegations
-- are made and ended by admins and supervisors of the delegating office (the row rules of
-- offices.sql); a feedback's contact (name, phone, e-mail: personal data) is read only
-- through feedback_contact_visible, by the staff roles that see names, like a dossier's
-- applicant.

GRANT INSERT, UPDATE ON office, delegation TO cadastre_api;
GRANT INSERT ON delegation_procedure TO cadastre_api;
DROP TRIGGER IF EXISTS write_rule ON office;
CREATE TRIGGER write_rule BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON office
    FOR EACH STATEMENT EXECUTE FUNCTION write_rule('admin');

CREATE OR REPLACE VIEW feedback_contact_visible WITH (security_barrier = false) AS
SELECT f.id, f.code,
       CASE WHEN (SELECT auth_trusted_session() OR role_sees_names())
            THEN f.contact_name END AS contact_name,
       CASE WHEN (SELECT auth_trusted_session() OR role_sees_names())
            THEN f.contact_phone END AS contact_phone,
       CASE WHEN (SELECT auth_trusted_session() OR role_sees_names())
            THEN f.contact_email END AS contact_email
FROM feedback f;
GRANT SELECT ON feedback_contact_visible TO cadastre_api;

DO $$  -- a feedback's contact columns through feedback_contact_visible only
BEGIN
    EXECUTE 'REVOKE SELECT ON feedback FROM cadastre_api';
    EXECUTE (SELECT format('GRANT SELECT (%s) ON feedback TO cadastre_api',
                           string_agg(quote_ident(attname), ', '))
             FROM pg_attribute WHERE attrelid = 'feedback'::regclass AND attnum > 0
               AND NOT attisdropped AND attname NOT LIKE 'contact\_%');
END;
$$;

-- Owners of the SECURITY DEFINER functions of offices.sql: NOLOGIN roles, no superusers.
ALTER FUNCTION proven_office() OWNER TO cadastre_auth;
ALTER FUNCTION staff_account(text) OWNER TO cadastre_auth;
ALTER FUNCTION feedback_verifies(text, text) OWNER TO cadastre_definer;
