-- The party register as the API's login may touch it. Re-applied on every upgrade after
-- privileges.sql (the files run in sorted order: this name sorts after it), whose grants it
-- completes.
--
-- The API's login writes parties but reads people's names only through party_visible and
-- their personal data only through party_personal_visible (privileges.sql): it may insert
-- and update party_personal without reading it. What a write must match against personal
-- data (is this ID number someone's already? which parties have this number, this name,
-- this certificate?) is answered by the functions below, owned by cadastre_definer, for
-- the roles that see names (staff: clerks, supervisors, land officers, admins): the same
-- rule as cadastre/access.py.

GRANT SELECT (row_version, created_by, edited_at, edited_by, merged_into, merged_by)
    ON party TO cadastre_api;
GRANT INSERT (kind, name, organisation_code, created_by) ON party TO cadastre_api;
GRANT UPDATE (name, organisation_code, merged_into, merged_by, edited_at) ON party TO cadastre_api;
GRANT INSERT ON party_personal TO cadastre_api;
GRANT SELECT (party_id) ON party_personal TO cadastre_api;  -- to name the row an edit updates
GRANT UPDATE (id_kind, national_id, nationality, birth_date, birth_year, gender, address,
              phone, email) ON party_personal TO cadastre_api;

-- Counter clerks record the changes of households' members, and no other change.
CREATE OR REPLACE FUNCTION change_kind_rule() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kind text;
BEGIN
    IF auth_trusted_session() OR personal_data_role() <> 'counter_clerk' THEN
        RETURN NEW;
    END IF;
    IF TG_TABLE_NAME = 'change_transaction' THEN
        kind := NEW.kind;
    ELSE
        SELECT c.kind INTO kind FROM change_transaction c WHERE c.id = NEW.change_id;
    END IF;
    IF kind IN ('party_member', 'party_member_end') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the counter_clerk role may not record a change of kind %', kind
        USING ERRCODE = '42501', HINT = 'the database checks the role the caller proved';
END;
$$;

DROP TRIGGER IF EXISTS change_kind_rule ON change_transaction;
CREATE TRIGGER change_kind_rule BEFORE INSERT OR UPDATE ON change_transaction
    FOR EACH ROW EXECUTE FUNCTION change_kind_rule();
DROP TRIGGER IF EXISTS change_kind_rule ON change_source;
CREATE TRIGGER change_kind_rule BEFORE INSERT OR UPDATE ON change_source
    FOR EACH ROW EXECUTE FUNCTION change_kind_rule();

-- Only for the roles that see names (and the commands): what these functions answer says
-- who the register's people are.
CREATE OR REPLACE FUNCTION require_name_reader() RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT (auth_trusted_session() OR role_sees_names()) THEN
        RAISE EXCEPTION 'the % role may not look up parties', personal_data_role()
            USING ERRCODE = '42501';
    END IF;
END;
$$;

-- The party that holds an identity document (a CCCD or CMND number by its kind, a passport
-- by its number and country), or NULL: the check that refuses a second party with it.
CREATE OR REPLACE FUNCTION party_with_identity(document_kind text, country text, number text)
RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM require_name_reader();
    RETURN (SELECT p.party_id FROM party_personal p
            WHERE p.id_kind = document_kind AND p.national_id = number
              AND (CASE WHEN p.id_kind = 'passport' THEN p.nationality ELSE '' END)
                  = (CASE WHEN document_kind = 'passport' THEN country ELSE '' END));
END;
$$;

-- The parties whose identity document has this number, whatever its kind.
CREATE OR REPLACE FUNCTION parties_with_id_number(number text, max_rows integer)
RETURNS SETOF bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM require_name_reader();
    RETURN QUERY SELECT p.party_id FROM party_personal p WHERE p.national_id = number
                 ORDER BY p.party_id LIMIT max_rows;
END;
$$;

-- Parties by name, accent- and case-insensitively (search_text: unaccent, đ -> d, lower),
-- best matches first, a page at a time. It runs as the owner so that the trigram index on
-- party names serves (party_name_search_idx).
CREATE OR REPLACE FUNCTION parties_named(query text, max_rows integer, skip integer)
RETURNS TABLE (party_id bigint, score real)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    wanted text := search_text(regexp_replace(btrim(query), '\s+', ' ', 'g'));
BEGIN
    PERFORM require_name_reader();
    RETURN QUERY
        SELECT p.id, similarity(search_text(p.name), wanted)
        FROM party p
        WHERE search_text(p.name) LIKE '%' || replace(replace(replace(wanted, '\', '\\'),
                                                          '%', '\%'), '_', '\_') || '%'
        ORDER BY 2 DESC, p.id LIMIT max_rows OFFSET skip;
END;
$$;

-- The parcels on which a party is a restriction's counterparty (a lender, an authority):
-- a merge of that party locks them first. Only for the roles that change the register.
CREATE OR REPLACE FUNCTION restriction_parcels_of(party bigint) RETURNS bigint[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM require_register_writer();
    RETURN coalesce((SELECT array_agg(DISTINCT r.parcel_id ORDER BY r.parcel_id)
                     FROM restriction r WHERE r.party_id = party AND upper_inf(r.lifespan)),
                    '{}');
END;
$$;

-- A merge moves the duplicate's current restrictions to the survivor: each ends and a new
-- version of the same restriction begins naming the survivor, with its reference,
-- description and amount unchanged whichever role records the change. The number moved.
CREATE OR REPLACE FUNCTION restrictions_move_party(from_party bigint, to_party bigint,
                                                   change bigint, at timestamptz)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    moved integer;
BEGIN
    PERFORM require_register_writer();
    WITH old AS (
        UPDATE restriction SET lifespan = tstzrange(lower(lifespan), at, '[)'),
                               ended_by = change
        WHERE party_id = from_party AND upper_inf(lifespan)
        RETURNING restriction_id, kind, parcel_id, reference, description, amount)
    INSERT INTO restriction (restriction_id, kind, parcel_id, party_id, reference,
                             description, amount, lifespan, begun_by)
    SELECT restriction_id, kind, parcel_id, to_party, reference, description, amount,
           tstzrange(at, NULL, '[)'), change FROM old;
    GET DIAGNOSTICS moved = ROW_COUNT;
    RETURN moved;
END;
$$;

-- Why two parties cannot be one person (or one organisation), or NULL when they may be
-- merged: different kinds, different identity documents of one kind, tax codes, birth years,
-- sexes or nationalities; or a duplicate that carries a document (or a newer one, a CCCD
-- beside a CMND) the survivor lacks: then the survivor is to be merged into it, so that the
-- identity stays on the party that remains. The reason names no personal data.
CREATE OR REPLACE FUNCTION party_merge_obstacle(duplicate bigint, survivor bigint)
RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    d record;
    s record;
    other text := format('merge party #%s into #%s instead', survivor, duplicate);
BEGIN
    PERFORM require_register_writer();
    SELECT p.kind, p.organisation_code, pp.id_kind, pp.national_id, pp.nationality,
           coalesce(pp.birth_year, extract(year FROM pp.birth_date)::integer) AS born,
           pp.gender INTO d
    FROM party p LEFT JOIN party_personal pp ON pp.party_id = p.id WHERE p.id = duplicate;
    SELECT p.kind, p.organisation_code, pp.id_kind, pp.national_id, pp.nationality,
           coalesce(pp.birth_year, extract(year FROM pp.birth_date)::integer) AS born,
           pp.gender INTO s
    FROM party p LEFT JOIN party_personal pp ON pp.party_id = p.id WHERE p.id = survivor;
    IF d.kind IS DISTINCT FROM s.kind THEN
        RETURN format('party #%s is of kind %s and #%s of kind %s: only parties of one kind '
                      'are merged', duplicate, d.kind, survivor, s.kind);
    END IF;
    IF d.organisation_code IS NOT NULL AND s.organisation_code IS NOT NULL
       AND d.organisation_code <> s.organisation_code THEN
        RETURN format('parties #%s and #%s have different tax codes: they are two '
                      'organisations', duplicate, survivor);
    END IF;
    IF d.organisation_code IS NOT NULL AND s.organisation_code IS NULL THEN
        RETURN format('party #%s has a tax code and #%s none: %s', duplicate, survivor, other);
    END IF;
    IF d.id_kind IS NOT NULL AND d.id_kind = s.id_kind
       AND (d.national_id <> s.national_id
            OR (d.id_kind = 'passport' AND d.nationality IS DISTINCT FROM s.nationality)) THEN
        RETURN format('parties #%s and #%s have different %s numbers: they are two people',
                      duplicate, survivor, upper(d.id_kind));
    END IF;
    IF d.id_kind IS NOT NULL
       AND (s.id_kind IS NULL OR (d.id_kind = 'cccd' AND s.id_kind = 'cmnd')) THEN
        RETURN format('party #%s carries a %s and #%s %s: %s', duplicate, upper(d.id_kind),
                      survivor, coalesce('a ' || upper(s.id_kind) || ' only', 'no document'),
                      other);
    END IF;
    IF d.born <> s.born THEN
        RETURN format('parties #%s and #%s were born in different years: they are two people',
                      duplicate, survivor);
    END IF;
    IF d.gender <> s.gender THEN
        RETURN format('parties #%s and #%s are of different sexes: they are two people',
                      duplicate, survivor);
    END IF;
    IF d.nationality <> s.nationality THEN
        RETURN format('parties #%s and #%s have different nationalities', duplicate, survivor);
    END IF;
    RETURN NULL;
END;
$$;

ALTER FUNCTION party_with_identity(text, text, text) OWNER TO cadastre_definer;
ALTER FUNCTION party_merge_obstacle(bigint, bigint) OWNER TO cadastre_definer;
ALTER FUNCTION parties_with_id_number(text, integer) OWNER TO cadastre_definer;
ALTER FUNCTION parties_named(text, integer, integer) OWNER TO cadastre_definer;
ALTER FUNCTION restriction_parcels_of(bigint) OWNER TO cadastre_definer;
ALTER FUNCTION restrictions_move_party(bigint, bigint, bigint, timestamptz)
    OWNER TO cadastre_definer;
REVOKE ALL ON FUNCTION party_with_identity(text, text, text),
    parties_with_id_number(text, integer), parties_named(text, integer, integer),
    restriction_parcels_of(bigint),
    restrictions_move_party(bigint, bigint, bigint, timestamptz),
    party_merge_obstacle(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION party_with_identity(text, text, text),
    parties_with_id_number(text, integer), parties_named(text, integer, integer),
    restriction_parcels_of(bigint),
    restrictions_move_party(bigint, bigint, bigint, timestamptz),
    party_merge_obstacle(bigint, bigint) TO cadastre_api;
