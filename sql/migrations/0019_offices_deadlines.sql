-- Authority follows offices, deadlines and KPIs tell the truth, the feedback queue (issue 16,
-- items 6 and 7). The rules themselves (who may act for which office, the delegations'
-- history, the office clock) are functions and triggers of sql/functions/offices.sql.

-- --- accounts belong to offices -------------------------------------------------------------
-- An account's office is now a real office. A code naming none (typed by hand before offices
-- were managed) cannot stay under the foreign key: it is cleared and listed, and the account
-- is then like every staff account without an office: it cannot sign in until an admin sets
-- its office (`cadastre user set-office NAME CODE`). No account is lost.
DO $$
DECLARE
    unknown text;
BEGIN
    SELECT string_agg(format('%s (%s)', username, office_code), ', ' ORDER BY username)
      INTO unknown
      FROM app_user u
     WHERE office_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM office o
                                                   WHERE o.code = u.office_code);
    IF unknown IS NOT NULL THEN
        RAISE NOTICE 'accounts naming an unknown office, now without one: %', unknown;
    END IF;
END;
$$;
UPDATE app_user SET office_code = NULL
 WHERE office_code IS NOT NULL AND office_code NOT IN (SELECT code FROM office);
-- A demo database's staff accounts (cadastre demo load, before offices were managed) work at
-- the demo's registration office: by that rule, they keep signing in.
UPDATE app_user SET office_code = 'VPDK.HN'
 WHERE username IN ('officer', 'clerk', 'supervisor') AND office_code IS NULL
   AND role IN ('counter_clerk', 'land_officer', 'supervisor')
   AND EXISTS (SELECT 1 FROM database_setting WHERE name = 'demo_loaded')
   AND EXISTS (SELECT 1 FROM office WHERE code = 'VPDK.HN');
ALTER TABLE app_user ADD CONSTRAINT app_user_office_code_fkey
    FOREIGN KEY (office_code) REFERENCES office (code);
CREATE INDEX app_user_office_idx ON app_user (office_code);

-- --- dossiers: the statutory due date stays; an apology promises another ----------------------
-- due_date is the statutory date (reception + the procedure's working days, moved only by the
-- days spent waiting for the citizen); promised_date the date of the latest apology letter.
-- statutory_days: the working days the dossier was given at intake (the procedure's time and
-- a remote commune's extra days then), so that a later edit of the catalogue does not move
-- the due date of a dossier already received when a pause ends.
ALTER TABLE dossier ADD COLUMN promised_date date,
                    ADD COLUMN statutory_days integer CHECK (statutory_days BETWEEN 1 AND 400);
UPDATE dossier d
   SET statutory_days = p.working_days + CASE WHEN coalesce((
           SELECT a.remote FROM admin_unit a WHERE a.level = 'commune' AND a.code = d.commune_code
            ORDER BY a.valid_to DESC NULLS FIRST LIMIT 1), false)
       THEN coalesce((SELECT value FROM calendar_setting
                       WHERE name = 'remote_commune_extra_days'), 0) ELSE 0 END
  FROM procedure p
 WHERE p.code = d.procedure_code;
ALTER TABLE dossier ALTER COLUMN statutory_days SET NOT NULL;
-- Earlier versions overwrote due_date with an apology's new date. Put the statutory date back
-- (the first letter's previous date, unless a pause recomputed due_date since) and keep the
-- latest letter's date as the promised one.
UPDATE dossier d
   SET promised_date = a.last_new,
       due_date = CASE WHEN d.due_date = a.last_new THEN a.first_previous ELSE d.due_date END
  FROM (SELECT dossier_id,
               (array_agg(previous_due ORDER BY issued_at, id))[1] AS first_previous,
               (array_agg(new_due ORDER BY issued_at DESC, id DESC))[1] AS last_new
          FROM apology_letter GROUP BY dossier_id) a
 WHERE a.dossier_id = d.id;

-- "Will be late" (an apology letter may be issued): the statutory date is within this many
-- working days, or past.
INSERT INTO calendar_setting (name, value) VALUES ('will_be_late_days', 1);

-- --- delegations (ủy quyền): a legal act with its basis, for one or several procedures --------
ALTER TABLE delegation RENAME COLUMN decision_ref TO decision_number;
ALTER TABLE delegation
    ADD COLUMN decision_date date,            -- required for new delegations (the service)
    ADD COLUMN signer text,                   -- who signed the decision
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN created_by text,
    ADD COLUMN ended_at timestamptz,          -- when it was ended early (valid_to set then)
    ADD COLUMN ended_by text;
-- An ended delegation keeps its row; one revoked before it began has an empty period
-- (valid_to the day before valid_from) and never held.
ALTER TABLE delegation DROP CONSTRAINT delegation_check1;
ALTER TABLE delegation ADD CONSTRAINT delegation_period_check
    CHECK (valid_to IS NULL OR valid_to >= valid_from - 1);
ALTER TABLE delegation ADD CONSTRAINT delegation_decision_number_check
    CHECK (btrim(decision_number) <> '');

CREATE TABLE delegation_procedure (
    delegation_id   bigint NOT NULL REFERENCES delegation (id),
    procedure_code  text NOT NULL REFERENCES procedure (code),
    PRIMARY KEY (delegation_id, procedure_code)
);
CREATE INDEX delegation_procedure_code_idx ON delegation_procedure (procedure_code);
INSERT INTO delegation_procedure (delegation_id, procedure_code)
    SELECT id, procedure_code FROM delegation;
DROP INDEX delegation_lookup_idx;
ALTER TABLE delegation DROP COLUMN procedure_code;
CREATE INDEX delegation_from_idx ON delegation (from_office, to_office);

-- --- the feedback queue: an item is assigned to an officer of its office ----------------------
ALTER TABLE feedback ADD COLUMN assigned_to text,
                     ADD COLUMN assigned_at timestamptz,
                     ADD COLUMN assigned_by text;
CREATE INDEX feedback_queue_idx ON feedback (office_code, answer_due) WHERE answered_at IS NULL;
