-- The working-day calendar as the API's login may touch it. Re-applied on every upgrade
-- after privileges.sql (the files run in sorted order: this name sorts after it), whose
-- grants and role functions it uses.
--
-- Everybody reads the calendar (privileges.sql grants SELECT on every table). The base
-- calendar (public_holiday, calendar_year) is written only by the owner's commands
-- (`cadastre calendar refresh`, `cadastre db upgrade`), never by the API. An administrator
-- adds, replaces and ends the local entries of calendar_swap through the API: a new row, or
-- the closing of the row in force; never a rewrite, never a DELETE. Who recorded or ended
-- an entry is the proven end user (the command's OS user in a trusted session), whatever
-- the statement says.

GRANT INSERT, UPDATE ON calendar_swap TO cadastre_api;

CREATE OR REPLACE FUNCTION calendar_swap_history() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    probe record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'calendar entries are never deleted: end entry % instead', OLD.swap_id
            USING ERRCODE = 'CD001';
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.recorded_by := proven_actor();
        -- valid since it was recorded: an entry in force from this transaction on (the
        -- trusted commands may load history)
        IF NOT auth_trusted_session() AND (NOT upper_inf(NEW.lifespan)
               OR lower(NEW.lifespan) NOT BETWEEN now() AND clock_timestamp()) THEN
            RAISE EXCEPTION 'a new calendar entry is in force from when it is recorded'
                USING ERRCODE = '42501';
        END IF;
        IF upper_inf(NEW.lifespan) THEN
            NEW.ended_by := NULL;
            NEW.end_basis := NULL;
        END IF;
        RETURN NEW;
    END IF;
    IF NOT upper_inf(OLD.lifespan) THEN
        RAISE EXCEPTION 'version % of calendar entry % is already closed (%): history is '
            'never overwritten', OLD.version_id, OLD.swap_id, OLD.lifespan
            USING ERRCODE = 'CD001';
    END IF;
    probe := jsonb_populate_record(NEW, jsonb_build_object(
        'lifespan', OLD.lifespan, 'ended_by', OLD.ended_by, 'end_basis', OLD.end_basis));
    IF probe IS DISTINCT FROM OLD OR lower(NEW.lifespan) IS DISTINCT FROM lower(OLD.lifespan)
       OR upper_inf(NEW.lifespan) THEN
        RAISE EXCEPTION 'version % of calendar entry % may only be closed, not edited',
            OLD.version_id, OLD.swap_id
            USING ERRCODE = 'CD001', HINT = 'record a new version instead';
    END IF;
    IF NOT auth_trusted_session() AND upper(NEW.lifespan) NOT BETWEEN now() AND clock_timestamp()
    THEN
        RAISE EXCEPTION 'calendar entry % ends when it is ended, not at another time',
            OLD.swap_id USING ERRCODE = '42501';
    END IF;
    NEW.ended_by := proven_actor();
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS calendar_swap_history ON calendar_swap;
CREATE TRIGGER calendar_swap_history BEFORE INSERT OR UPDATE OR DELETE ON calendar_swap
    FOR EACH ROW EXECUTE FUNCTION calendar_swap_history();
-- only administrators write it through the API (the database checks the proven role)
DROP TRIGGER IF EXISTS write_rule ON calendar_swap;
CREATE TRIGGER write_rule BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON calendar_swap
    FOR EACH STATEMENT EXECUTE FUNCTION write_rule('admin');
DROP TRIGGER IF EXISTS write_rule ON public_holiday;
CREATE TRIGGER write_rule BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON public_holiday
    FOR EACH STATEMENT EXECUTE FUNCTION write_rule();
DROP TRIGGER IF EXISTS write_rule ON calendar_year;
CREATE TRIGGER write_rule BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON calendar_year
    FOR EACH STATEMENT EXECUTE FUNCTION write_rule();
