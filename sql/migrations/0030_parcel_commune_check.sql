-- A parcel's (and a map sheet's) commune code must be a commune of the unit registry on the
-- version's date (issue 17, item 1).
--
-- The identity of a parcel is the commune its map sheet was drawn for + sheet + number
-- (docs/architecture.md, "Parcel identity across the 2025 merger"): a sheet of the former
-- Phúc Tân ward keeps 00037 after the ward became part of Hồng Hà on 2025-07-01, and so do
-- the parcels on it, including those a split makes later; lookups answer today's commune
-- through current_commune(). So the check is that the code names a commune that had begun
-- by the version's date: one in force then, or a former one whose sheets are still the
-- register's. A code no commune ever had, or one whose commune began after the version
-- (a new ward's code on a version of 2024), is refused. Statement-level, over the new rows
-- at once (a bulk COPY of a million parcels pays one grouped query).

CREATE FUNCTION check_commune_codes() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.commune_code, n.first_day INTO bad
    FROM (SELECT commune_code, min(lower(lifespan) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                 AS first_day
          FROM new_rows GROUP BY commune_code) n
    WHERE NOT EXISTS (
        SELECT 1 FROM admin_unit a
        WHERE a.level = 'commune' AND a.code = n.commune_code
          AND (a.valid_from IS NULL OR a.valid_from <= n.first_day))
    ORDER BY 1 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'commune code % is not a commune of the unit registry on % (%)',
                bad.commune_code, bad.first_day, TG_TABLE_NAME
            USING ERRCODE = '23503',
                  HINT = 'the administrative units are loaded by cadastre admin units load; '
                         'a sheet keeps the commune it was drawn for';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER parcel_commune_known AFTER INSERT ON parcel
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION check_commune_codes();
CREATE TRIGGER map_sheet_commune_known AFTER INSERT ON map_sheet
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION check_commune_codes();
