-- Authority follows offices (issue 16; docs/dossiers.md, "Offices and delegations").
--
--   * The office clock: the one-stop service's instants and days (receptions, events,
--     results, apologies, feedback, "today" of deadlines and KPIs).
--   * The caller's office: the office of the account auth_act() proved and sealed for the
--     transaction (proven_office()), never one the API names.
--   * Who may act on a dossier: its handling office, or an office the handling office
--     delegated the dossier's procedure to that day (office_may_act()); a counter clerk also
--     at the counter that received it. Checked by the domain first (a 403 `wrong-office`) and
--     again here, for the API's login, by row triggers on dossiers and their events.
--   * Delegations are history: a row is ended (valid_to set), never edited or deleted, and
--     one office never delegates one procedure twice over the same days.
--   * Counter clerks, land officers and supervisors have an office; admins are
--     province-wide and analysts do not act on dossiers (they may have none).

-- --- the office clock ------------------------------------------------------------------------
-- The database's clock, moved by the offset a trusted session may record in database_setting
-- ('office_clock_offset', an interval): for a training copy or a test that must see days
-- pass (cadastre.clock.set_office_clock). The API cannot write it. Nothing else
-- follows this clock: tokens, rate limits, the audit log and the register's lifespans keep
-- the real one.
CREATE OR REPLACE FUNCTION office_clock_offset() RETURNS interval
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce((SELECT CAST(value AS interval) FROM database_setting
                     WHERE name = 'office_clock_offset'), interval '0')
$$;

-- The transaction's instant on the office clock (like now(): fixed for the transaction).
CREATE OR REPLACE FUNCTION office_now() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT now() + office_clock_offset()
$$;

-- The moment of the call on the office clock (like clock_timestamp(): events in order).
CREATE OR REPLACE FUNCTION office_clock() RETURNS timestamptz
LANGUAGE sql VOLATILE AS $$
    SELECT clock_timestamp() + office_clock_offset()
$$;

-- Today in Việt Nam on the office clock, whatever the session's time zone.
CREATE OR REPLACE FUNCTION office_today() RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT (office_now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
$$;

-- --- the caller's office ---------------------------------------------------------------------
-- The office of the proven end user, read from the account as it is now (auth_act sealed the
-- account's id with the actor and role). A trusted session (a command, a test of the domain)
-- names the office it acts for in the setting cadastre.office, or none: province-wide. An
-- unproven session has none.
CREATE OR REPLACE FUNCTION proven_office() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF auth_trusted_session() THEN
        RETURN nullif(current_setting('cadastre.office', true), '');
    END IF;
    IF NOT auth_seal_holds() THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT u.office_code FROM app_user u
            WHERE u.id = CAST(nullif(current_setting('cadastre.uid', true), '') AS bigint)
              AND NOT u.disabled);
END;
$$;

-- An active staff account (for assigning work to it): its role and office. Answered only to
-- staff and commands.
CREATE OR REPLACE FUNCTION staff_account(login text)
RETURNS TABLE (username text, role text, office_code text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT u.username, u.role, u.office_code FROM app_user u
    WHERE u.username = login AND NOT u.disabled
      AND u.role IN ('counter_clerk', 'land_officer', 'supervisor', 'admin')
      AND (auth_trusted_session()
           OR personal_data_role() IN ('counter_clerk', 'land_officer', 'supervisor', 'admin'))
$$;

-- May office `acting` act on a dossier that office `handler` handles, of procedure
-- `dossier_procedure`, on day `on_day`: its own, or delegated to it by the handler for that
-- procedure on that day.
CREATE OR REPLACE FUNCTION office_may_act(acting text, handler text, dossier_procedure text,
                                          on_day date)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT acting = handler OR EXISTS (
        SELECT 1 FROM delegation d JOIN delegation_procedure p ON p.delegation_id = d.id
        WHERE d.from_office = handler AND d.to_office = acting
          AND p.procedure_code = dossier_procedure
          AND d.valid_from <= on_day AND (d.valid_to IS NULL OR on_day <= d.valid_to))
$$;

-- --- accounts have offices -------------------------------------------------------------------
CREATE OR REPLACE FUNCTION app_user_office_rule() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.role IN ('counter_clerk', 'land_officer', 'supervisor') AND NEW.office_code IS NULL
    THEN
        RAISE EXCEPTION 'a % account belongs to an office', NEW.role
            USING ERRCODE = '23502', HINT = 'give the office: cadastre user add NAME --office CODE';
    END IF;
    RETURN NEW;
END;
$$;
DROP TRIGGER IF EXISTS app_user_office_rule ON app_user;
CREATE TRIGGER app_user_office_rule BEFORE INSERT OR UPDATE OF role, office_code ON app_user
    FOR EACH ROW EXECUTE FUNCTION app_user_office_rule();

-- --- dossiers are received and handled by offices --------------------------------------------
-- For the API's login: a staff member receives dossiers at their own office only, and acts on
-- a dossier only for its handling office or under a delegation of it valid today (a counter
-- clerk also at the counter that received it). Admins are province-wide; the other roles are
-- refused by dossier_write_rule (privileges.sql).
CREATE OR REPLACE FUNCTION dossier_office_rule() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    who text;
    mine text;
BEGIN
    IF auth_trusted_session() THEN
        RETURN NEW;
    END IF;
    who := personal_data_role();
    IF who NOT IN ('counter_clerk', 'land_officer', 'supervisor') THEN
        RETURN NEW;
    END IF;
    mine := proven_office();
    IF mine IS NULL THEN
        RAISE EXCEPTION 'the % account belongs to no office', who
            USING ERRCODE = '42501', HINT = 'an admin sets the account''s office';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.received_by_office IS DISTINCT FROM mine THEN
            RAISE EXCEPTION 'staff of office % receive dossiers at %, not at %', mine, mine,
                NEW.received_by_office USING ERRCODE = '42501';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.received_by_office IS DISTINCT FROM OLD.received_by_office
       OR NEW.handling_office IS DISTINCT FROM OLD.handling_office THEN
        RAISE EXCEPTION 'the offices of dossier % are not reassigned', OLD.code
            USING ERRCODE = '42501';
    END IF;
    IF office_may_act(mine, OLD.handling_office, OLD.procedure_code, office_today())
       OR (who = 'counter_clerk' AND mine = OLD.received_by_office) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'office % does not handle dossier % and holds no delegation for it', mine,
        OLD.code USING ERRCODE = '42501';
END;
$$;
DROP TRIGGER IF EXISTS office_rule ON dossier;
CREATE TRIGGER office_rule BEFORE INSERT OR UPDATE ON dossier
    FOR EACH ROW EXECUTE FUNCTION dossier_office_rule();

-- A dossier's events and apology letters are written by its offices (the receiving counter,
-- the handling office or its delegate); an event names the office that acted.
CREATE OR REPLACE FUNCTION dossier_part_office_rule() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    who text;
    mine text;
    d record;
BEGIN
    IF auth_trusted_session() THEN
        RETURN NEW;
    END IF;
    who := personal_data_role();
    IF who NOT IN ('counter_clerk', 'land_officer', 'supervisor') THEN
        RETURN NEW;
    END IF;
    mine := proven_office();
    SELECT x.code, x.received_by_office, x.handling_office, x.procedure_code INTO d
      FROM dossier x WHERE x.id = NEW.dossier_id;
    IF mine IS NULL OR NOT (mine = d.received_by_office
                            OR office_may_act(mine, d.handling_office, d.procedure_code,
                                              office_today())) THEN
        RAISE EXCEPTION 'office % may not write % of dossier %', coalesce(mine, '(none)'),
            TG_TABLE_NAME, d.code USING ERRCODE = '42501';
    END IF;
    IF TG_TABLE_NAME = 'dossier_event' THEN
        NEW.office_code := mine;
    END IF;
    RETURN NEW;
END;
$$;
DROP TRIGGER IF EXISTS office_rule ON dossier_event;
CREATE TRIGGER office_rule BEFORE INSERT ON dossier_event
    FOR EACH ROW EXECUTE FUNCTION dossier_part_office_rule();
DROP TRIGGER IF EXISTS office_rule ON apology_letter;
CREATE TRIGGER office_rule BEFORE INSERT ON apology_letter
    FOR EACH ROW EXECUTE FUNCTION dossier_part_office_rule();

-- --- delegations are history -----------------------------------------------------------------
-- Made and ended by an admin or a supervisor of the delegating office; ending sets valid_to
-- (earlier, never later) once; nothing else of a delegation changes, and none is deleted.
CREATE OR REPLACE FUNCTION delegation_rule() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    who text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'delegations are history: end one, never delete it'
            USING ERRCODE = 'CD001';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF to_jsonb(NEW) - 'valid_to' - 'ended_at' - 'ended_by'
           IS DISTINCT FROM to_jsonb(OLD) - 'valid_to' - 'ended_at' - 'ended_by' THEN
            RAISE EXCEPTION 'delegation % is only ended, never edited', OLD.id
                USING ERRCODE = 'CD001';
        END IF;
        IF OLD.ended_at IS NOT NULL THEN
            RAISE EXCEPTION 'delegation % was ended on %', OLD.id, OLD.ended_at
                USING ERRCODE = 'CD001';
        END IF;
        IF NEW.valid_to IS NULL OR NEW.valid_to > coalesce(OLD.valid_to, NEW.valid_to) THEN
            RAISE EXCEPTION 'ending delegation % may only shorten it', OLD.id
                USING ERRCODE = 'CD001';
        END IF;
        NEW.ended_at := coalesce(NEW.ended_at, clock_timestamp());
    END IF;
    IF auth_trusted_session() THEN
        RETURN NEW;
    END IF;
    who := personal_data_role();
    IF who = 'admin' OR (who = 'supervisor' AND proven_office() = NEW.from_office) THEN
        IF TG_OP = 'INSERT' THEN
            NEW.created_by := proven_actor();
        ELSE
            NEW.ended_by := proven_actor();
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'only an admin or a supervisor of office % delegates its procedures',
        NEW.from_office USING ERRCODE = '42501';
END;
$$;
DROP TRIGGER IF EXISTS delegation_rule ON delegation;
CREATE TRIGGER delegation_rule BEFORE INSERT OR UPDATE OR DELETE ON delegation
    FOR EACH ROW EXECUTE FUNCTION delegation_rule();

-- A delegated procedure: written with its delegation, never changed; one office delegates a
-- procedure to one office at a time (23P01, like an exclusion constraint: concurrent
-- delegations of one office are serialised by a lock on it).
CREATE OR REPLACE FUNCTION delegation_procedure_rule() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    d delegation;
    clash record;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'a delegation''s procedures are never changed: end it and make another'
            USING ERRCODE = 'CD001';
    END IF;
    SELECT * INTO d FROM delegation WHERE id = NEW.delegation_id;
    IF NOT auth_trusted_session() AND NOT (personal_data_role() = 'admin'
            OR (personal_data_role() = 'supervisor' AND proven_office() = d.from_office)) THEN
        RAISE EXCEPTION 'only an admin or a supervisor of office % delegates its procedures',
            d.from_office USING ERRCODE = '42501';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('delegation'), hashtext(d.from_office));
    SELECT o.id, o.to_office, o.valid_from, o.valid_to INTO clash
      FROM delegation o JOIN delegation_procedure op ON op.delegation_id = o.id
     WHERE o.from_office = d.from_office AND op.procedure_code = NEW.procedure_code
       AND o.id <> d.id
       AND daterange(o.valid_from, o.valid_to + 1) && daterange(d.valid_from, d.valid_to + 1)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'office % already delegates % to % from % to % (delegation %)',
            d.from_office, NEW.procedure_code, clash.to_office, clash.valid_from,
            coalesce(clash.valid_to::text, 'further notice'), clash.id
            USING ERRCODE = '23P01';
    END IF;
    RETURN NEW;
END;
$$;
DROP TRIGGER IF EXISTS delegation_procedure_rule ON delegation_procedure;
CREATE TRIGGER delegation_procedure_rule BEFORE INSERT OR UPDATE OR DELETE
    ON delegation_procedure FOR EACH ROW EXECUTE FUNCTION delegation_procedure_rule();

-- --- the citizen's proof for a feedback ------------------------------------------------------
-- The last 4 digits of the phone number the citizen gave (nothing else: not the e-mail),
-- answered without showing the number (the API's login cannot read feedback contacts).
CREATE OR REPLACE FUNCTION feedback_verifies(feedback_code text, digits text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce(bool_or(digits ~ '^[0-9]{4}$'
                            AND length(regexp_replace(contact_phone, '[^0-9]', '', 'g')) >= 4
                            AND right(regexp_replace(contact_phone, '[^0-9]', '', 'g'), 4)
                                = digits), false)
    FROM feedback WHERE code = feedback_code
$$;
