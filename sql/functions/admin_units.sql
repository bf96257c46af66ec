-- The commune(s) in force today that a commune code of some day became (issue 17, item 1):
-- old certificates, legacy files and addresses carry the codes of before 2025-07-01. From the
-- commune version with that code in force on `on_day` (default: today in Việt Nam) the
-- successions of admin_unit_succession are followed (the 2025 reform, a later rename, ...)
-- until the units in force today. `since`: the day the commune went into the unit (a later
-- rename of the unit does not move it; a unit still in force answers itself, since it
-- began); `main`: every step on the way is the main one (the default successor of a split
-- old commune). No row: no commune had the code on that day.
-- cadastre.admin.units.today_unit() answers the same in words.
CREATE OR REPLACE FUNCTION current_commune(commune_code text, on_day date DEFAULT NULL)
RETURNS TABLE (code text, name text, since date, main boolean)
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE today AS (
        SELECT (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day
    ), walk (id, since, main, depth) AS (
        SELECT a.id, a.valid_from, true, 0
        FROM admin_unit a, today t
        WHERE a.level = 'commune' AND a.code = commune_code
          AND a.validity @> coalesce(on_day, t.day)
        UNION ALL
        -- a later rename keeps the day the commune went into the unit
        SELECT s.successor_id, CASE WHEN w.depth > 0 AND s.kind IN ('renamed', 'continued')
                                    THEN w.since ELSE s.effective_on END,
               w.main AND s.main, w.depth + 1
        FROM walk w
        JOIN admin_unit a ON a.id = w.id
        JOIN admin_unit_succession s ON s.predecessor_id = w.id
        CROSS JOIN today t
        WHERE NOT a.validity @> t.day AND w.depth < 20
    )
    SELECT a.code, a.name, min(w.since), bool_or(w.main)
    FROM walk w JOIN admin_unit a ON a.id = w.id CROSS JOIN today t
    WHERE a.validity @> t.day
    GROUP BY a.id, a.code, a.name
    ORDER BY bool_or(w.main) DESC, a.code
$$;

-- The commune in force today that a parcel's commune code is or became, as the lookups show
-- it: {"code", "name", "since"} of the main successor (the code's own unit when in force;
-- else from its last version). NULL for a code the registry does not know.
CREATE OR REPLACE FUNCTION commune_today(commune_code text) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('code', c.code, 'name', c.name, 'since', c.since)
    FROM current_commune(commune_code, (
        SELECT CASE WHEN bool_or(a.valid_to IS NULL) THEN NULL ELSE max(a.valid_to) END
        FROM admin_unit a WHERE a.level = 'commune' AND a.code = commune_code)) c
    ORDER BY c.main DESC, c.code
    LIMIT 1
$$;
