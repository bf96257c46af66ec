-- The working-day calendar from a maintained source (issue 17, item 5).
--
-- public_holiday (0008) now holds the days of the pinned PyPI package `holidays` (Việt Nam:
-- the Labor Code's holidays, substitutes, and the swaps the package carries), loaded per year
-- by `cadastre calendar refresh` and by `cadastre db init` / `db upgrade` for every
-- configured year that is missing, without a migration. calendar_year says which years are
-- loaded, from which version: a year not there has no calendar and no appointment falls in
-- it. The hand-typed seed of 0008 goes (the package's days replace it on the next upgrade).
--
-- calendar_swap holds what an administrator adds: the government's announcements the
-- package lacks (a weekday off for a Saturday worked, a day the law gives that the package
-- does not know), each with its legal basis. Versioned: a row is never edited, only closed
-- (ended, or replaced by its next version at the same instant).

DELETE FROM public_holiday WHERE source = 'seed (check)';

CREATE TABLE calendar_year (
    year       integer PRIMARY KEY CHECK (year BETWEEN 1900 AND 2100),
    source     text NOT NULL,                   -- e.g. 'holidays 0.109 (VN)'
    loaded_at  timestamptz NOT NULL DEFAULT now(),
    loaded_by  text NOT NULL
);

-- The years `cadastre db upgrade` keeps loaded (`cadastre calendar refresh --years` adds
-- others).
INSERT INTO calendar_setting (name, value) VALUES
    ('calendar_first_year', 2024),
    ('calendar_last_year', 2030);

CREATE SEQUENCE calendar_swap_id_seq;

CREATE TABLE calendar_swap (
    version_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    swap_id      bigint NOT NULL DEFAULT nextval('calendar_swap_id_seq'),  -- stable
    day          date NOT NULL CHECK (day BETWEEN '1900-01-01' AND '2100-12-31'),
    kind         text NOT NULL CHECK (kind IN ('day_off', 'working_day')),
    name         text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    legal_basis  text NOT NULL CHECK (btrim(legal_basis) <> '' AND length(legal_basis) <= 300),
    -- valid since it was recorded, until it was ended or replaced
    lifespan     tstzrange NOT NULL DEFAULT tstzrange(now(), NULL)
                 CHECK (NOT lower_inf(lifespan) AND NOT isempty(lifespan)),
    recorded_by  text NOT NULL,
    ended_by     text,
    end_basis    text CHECK (length(end_basis) <= 300),
    CHECK (upper_inf(lifespan) = (ended_by IS NULL))
);
ALTER SEQUENCE calendar_swap_id_seq OWNED BY calendar_swap.swap_id;
-- one entry in force per day, one version in force per entry
CREATE UNIQUE INDEX calendar_swap_day_in_force ON calendar_swap (day) WHERE upper_inf(lifespan);
CREATE UNIQUE INDEX calendar_swap_version_in_force ON calendar_swap (swap_id)
    WHERE upper_inf(lifespan);
CREATE INDEX calendar_swap_history ON calendar_swap (swap_id, lifespan);
