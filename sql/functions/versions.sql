-- Row versions that every write moves: a dossier's ETag is its code and row_version, and a
-- write that forgot to bump it (a rating did) would leave an old ETag valid, so that two
-- writers holding it both win. Every UPDATE of a dossier bumps the version here, whatever
-- the statement sets, and it can neither stay nor go back. CREATE OR REPLACE, re-applied by
-- every `cadastre db upgrade`.

CREATE OR REPLACE FUNCTION bump_row_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.row_version := OLD.row_version + 1;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER dossier_row_version BEFORE UPDATE ON dossier
    FOR EACH ROW EXECUTE FUNCTION bump_row_version();
