-- The two-level administrative units since 2025-07-01 and the old units as history (issue 17,
-- item 1).
--
-- `cadastre db init` / `db upgrade` and `cadastre admin units load` (cadastre/admin/units.py)
-- fill admin_unit from two pinned PyPI packages, without a migration:
--   * vietnam-provinces: the 3,321 communes in force since 2025-07-01 (xã, phường, đặc khu),
--     level 'commune', valid_from 2025-07-01, under the province in force;
--   * vietnamadminunits (its data files only): the 696 districts and the 10,035 communes of
--     the three-level structure, valid_to 2025-06-30, and the succession old commune -> new
--     commune of 2025-07-01.
-- admin_unit.source says where a row came from (NULL: typed in, or a demo's); admin_unit_load
-- records every load that changed something, with the packages' versions.

-- One code per level at a time, as before, on an integer key: the GiST of 0002 compared the
-- level and the code as text, 75 µs a row, and the load inserts 14,000 units at every
-- `cadastre db init` (0.77 s for 10,000 old communes; 0.36 s with this key). The key is the
-- level and the code read as a number in base 37 ('0'..'9', 'A'..'Z' = 1..36, padded to the
-- ten characters the code may have): one key per (level, code), and no other. A new level
-- gets its own number here. Lookups by code go through a b-tree index instead.
CREATE FUNCTION admin_unit_key(level text, code text) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE level WHEN 'province' THEN 1 WHEN 'district' THEN 2 WHEN 'commune' THEN 3
                      ELSE 4 END * 4808584372417849  -- 37^10
           + (SELECT sum(strpos('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', substr(code, i, 1))
                         * (37::bigint ^ (10 - i))::bigint)
              FROM generate_series(1, length(code)) AS i)::bigint
$$;
ALTER TABLE admin_unit DROP CONSTRAINT admin_unit_code_once_at_a_time,
    ADD CONSTRAINT admin_unit_code_once_at_a_time
        EXCLUDE USING gist (admin_unit_key(level, code) WITH =, validity WITH &&);
CREATE INDEX admin_unit_code_idx ON admin_unit (code, level);

ALTER TABLE admin_unit ADD COLUMN source text CHECK (btrim(source) <> '');
UPDATE admin_unit SET source = 'gis/data/provinces.csv' WHERE level = 'province';

-- A split old commune has several successors; `main` marks the one its records go to by
-- default (the package's default new commune: where most of it went, or its seat). An old
-- commune merged whole into one new commune has one successor, main. At most one main per
-- predecessor.
ALTER TABLE admin_unit_succession ADD COLUMN main boolean NOT NULL DEFAULT true;
CREATE UNIQUE INDEX admin_unit_succession_one_main ON admin_unit_succession (predecessor_id)
    WHERE main;

CREATE TABLE admin_unit_load (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    loaded_at  timestamptz NOT NULL DEFAULT now(),
    loaded_by  text NOT NULL DEFAULT current_user,
    source     text NOT NULL CHECK (btrim(source) <> ''),
    -- {"vietnam-provinces": "2025.10.1", "vietnam-provinces data": "2025-10-18",
    --  "vietnamadminunits": "1.0.4"}
    packages   jsonb NOT NULL,
    -- what the load inserted, and what it reported without changing (names that differ,
    -- codes the two packages disagree on, old communes without a successor, ...)
    summary    jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE TRIGGER admin_unit_load_immutable BEFORE UPDATE OR DELETE ON admin_unit_load
    FOR EACH ROW EXECUTE FUNCTION forbid_rewrite();
