-- Attach the audit row trigger to every table of the register and of the one-stop service
-- (re-run on every upgrade, so tables added by later migrations are audited too). Left out:
-- the audit log itself, the migration bookkeeping, the dossier code counters (their
-- effect is the dossier row, which is audited) and the rate-limit counters (no record of
-- the register; a row per request would double the cost of a check).
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.relname FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
          AND c.relname NOT IN ('audit_log', 'schema_migration', 'database_setting',
                                'dossier_sequence', 'spatial_ref_sys', 'rate_limit',
                                'auth_signing_key')
          AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid
                          AND g.tgname = 'audit_row')
    LOOP
        EXECUTE format('CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON %I '
                       'FOR EACH ROW EXECUTE FUNCTION audit_row()', t.relname);
    END LOOP;
END;
$$;
-- Token signing keys are secrets: their rows never enter the log (nor a backup).
DROP TRIGGER IF EXISTS audit_row ON auth_signing_key;
