-- The party register's rules in the database (CREATE OR REPLACE, re-applied on every
-- upgrade; this file sorts before privileges*.sql, whose views use party_kind_is_person).

-- The kinds of party whose names are personal data: people, households and groups of
-- people (cadastre.parties.kinds.PERSON_KINDS; a test keeps the two equal). The names of
-- organisations, religious organisations and communities are not.
CREATE OR REPLACE FUNCTION party_kind_is_person(kind text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT kind IN ('individual', 'household', 'group', 'overseas_vietnamese', 'foreigner')
$$;

-- Every edit of a party moves its row_version (the ETag of PATCH /api/v1/parties/{id}) and
-- says who made it, the end user the database proved; who created it is never rewritten.
-- A merged party is closed: it is never edited again (its rights went to the survivor).
CREATE OR REPLACE FUNCTION party_edited() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.merged_into IS NOT NULL THEN
        RAISE EXCEPTION 'party % was merged into party %: it is never edited again',
            OLD.id, OLD.merged_into USING ERRCODE = 'CD001';
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.kind IS DISTINCT FROM OLD.kind
       OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'a party''s id, kind and creation are never rewritten'
            USING ERRCODE = 'CD001';
    END IF;
    NEW.row_version := OLD.row_version + 1;
    NEW.created_by := OLD.created_by;
    NEW.edited_at := clock_timestamp();
    NEW.edited_by := proven_actor();
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER party_edited BEFORE UPDATE ON party
    FOR EACH ROW EXECUTE FUNCTION party_edited();

-- Who created a party is the proven end user, whatever the statement wrote (an import's
-- COPY names nobody: its change is in the audit log, and the trigger does not fire).
CREATE OR REPLACE FUNCTION party_created() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.created_by := proven_actor();
    NEW.row_version := 1;
    NEW.edited_at := NULL;
    NEW.edited_by := NULL;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER party_created BEFORE INSERT ON party
    FOR EACH ROW WHEN (NEW.created_by IS NOT NULL) EXECUTE FUNCTION party_created();

-- A party is born unmerged.
CREATE OR REPLACE FUNCTION party_born_unmerged() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a new party is not merged into another' USING ERRCODE = 'CD001';
END;
$$;

CREATE OR REPLACE TRIGGER party_born_unmerged BEFORE INSERT ON party
    FOR EACH ROW WHEN (NEW.merged_into IS NOT NULL)
    EXECUTE FUNCTION party_born_unmerged();
