-- A dossier's tax notices and payments as the API's login may touch them. Re-applied on
-- every upgrade after privileges.sql and privileges_financial.sql (sorted order), whose
-- grants and role functions it uses.
--
-- Staff record notices and payments (insert only: the tables refuse every rewrite); who
-- recorded them is the proven end user, whatever the statement says. What a land user owes
-- is a financial fact of theirs: the amounts and the payment's reference are read only
-- through tax_notice_visible, by the staff who see names (the counter hands the notice to
-- the land user and takes the receipt back); a GIS analyst or the public sees that a notice
-- exists and whether it is paid, and the API's login nothing more from the tables.

GRANT INSERT ON tax_notice, tax_payment TO cadastre_api;
REVOKE SELECT ON tax_notice, tax_payment FROM cadastre_api;
GRANT SELECT (id, dossier_id, notice_number, issued_on, authority, supersedes, recorded_at,
              recorded_by) ON tax_notice TO cadastre_api;
GRANT SELECT (notice_id, paid_on, recorded_at, recorded_by) ON tax_payment TO cadastre_api;

CREATE OR REPLACE FUNCTION tax_fact_recorded_by() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.recorded_by := proven_actor();
    NEW.recorded_at := now();
    RETURN NEW;
END;
$$;
DROP TRIGGER IF EXISTS recorded_by ON tax_notice;
CREATE TRIGGER recorded_by BEFORE INSERT ON tax_notice
    FOR EACH ROW EXECUTE FUNCTION tax_fact_recorded_by();
DROP TRIGGER IF EXISTS recorded_by ON tax_payment;
CREATE TRIGGER recorded_by BEFORE INSERT ON tax_payment
    FOR EACH ROW EXECUTE FUNCTION tax_fact_recorded_by();
DROP TRIGGER IF EXISTS write_rule ON tax_notice;
CREATE TRIGGER write_rule BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON tax_notice
    FOR EACH STATEMENT EXECUTE FUNCTION write_rule('land_officer', 'admin');
DROP TRIGGER IF EXISTS write_rule ON tax_payment;
CREATE TRIGGER write_rule BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON tax_payment
    FOR EACH STATEMENT EXECUTE FUNCTION write_rule('counter_clerk', 'land_officer', 'admin');

CREATE OR REPLACE VIEW tax_notice_visible WITH (security_barrier = false) AS
SELECT n.id, n.dossier_id, n.notice_number, n.issued_on, n.authority, n.supersedes,
       n.recorded_at, n.recorded_by,
       CASE WHEN role_sees_financial_references() THEN n.amounts END AS amounts,
       CASE WHEN role_sees_financial_references() THEN n.total END AS total,
       p.paid_on,
       CASE WHEN role_sees_financial_references() THEN p.amount END AS paid_amount,
       CASE WHEN role_sees_financial_references() THEN p.reference END AS paid_reference,
       p.recorded_by AS payment_recorded_by,
       EXISTS (SELECT 1 FROM tax_notice s WHERE s.supersedes = n.id) AS superseded
FROM tax_notice n LEFT JOIN tax_payment p ON p.notice_id = n.id;
GRANT SELECT ON tax_notice_visible TO cadastre_api;
