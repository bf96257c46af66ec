-- The land-use code list's rules (migration 0024): which code is in force on a day, and the
-- trigger refusing a new purpose whose code had ended before its parcel version began.

-- The code of ``wanted`` in force on ``day``: itself, or the successor (of the successor ...)
-- of a code that ended before; NULL when there is none.
CREATE OR REPLACE FUNCTION land_use_code_on(wanted text, day date) RETURNS text
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE chain (code, depth) AS (
        SELECT wanted, 0
        UNION ALL
        SELECT t.successor, c.depth + 1 FROM chain c JOIN land_use_type t ON t.code = c.code
        WHERE t.valid_to < day AND t.successor IS NOT NULL AND c.depth < 10
    )
    SELECT c.code FROM chain c JOIN land_use_type t ON t.code = c.code
    WHERE t.valid_from <= day AND (t.valid_to IS NULL OR day <= t.valid_to)
    ORDER BY c.depth LIMIT 1
$$;

-- AFTER INSERT ... FOR EACH STATEMENT on parcel_land_use (new_rows): a code that ended before
-- the day (in Việt Nam) its parcel version begins is refused, naming the successor. Rows of
-- old versions are never inserted again, so history keeps the codes of its time. One query
-- per statement: a COPY of a million rows is checked at once, and a load whose codes are all
-- in force (none with an end) does not look at the parcels at all.
CREATE OR REPLACE FUNCTION land_use_code_in_force() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM new_rows n JOIN land_use_type t ON t.code = n.land_use_code
                   WHERE t.valid_to IS NOT NULL) THEN
        RETURN NULL;
    END IF;
    SELECT n.land_use_code AS code, t.valid_to, p.version_id,
           (lower(p.lifespan) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day INTO bad
    FROM new_rows n JOIN land_use_type t ON t.code = n.land_use_code
    JOIN parcel p ON p.version_id = n.parcel_version_id
    WHERE t.valid_to < (lower(p.lifespan) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
    ORDER BY n.land_use_code LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'land-use code % ended on %: use % (parcel version % begins on %)',
            bad.code, bad.valid_to,
            coalesce(land_use_code_on(bad.code, bad.day), 'a code in force'), bad.version_id,
            bad.day
            USING ERRCODE = '23514',
                  HINT = 'a new purpose uses a code in force (cadastre reference land-use list)';
    END IF;
    RETURN NULL;
END;
$$;
