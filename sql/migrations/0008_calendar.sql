-- Working-day calendar of the one-stop service: public holidays per year (editable: the
-- government announces Tết and the swapped days each year), and the extra working days a
-- remote or mountain commune gets (admin_unit.remote).

CREATE TABLE public_holiday (
    day        date PRIMARY KEY,
    name       text NOT NULL,
    kind       text NOT NULL DEFAULT 'holiday' CHECK (kind IN ('holiday', 'swapped_day_off',
                   'swapped_working_day')),
    source     text NOT NULL                 -- the notice it comes from, or "seed (check)"
);

CREATE TABLE calendar_setting (
    name   text PRIMARY KEY,
    value  integer NOT NULL
);
-- Extra working days for remote and mountain communes (DOMAIN.md: +10, to be checked).
INSERT INTO calendar_setting (name, value) VALUES ('remote_commune_extra_days', 10);

-- Seed: fixed national holidays and the Tết and Hùng Kings days of 2026 and 2027 as the
-- notices are understood here; check them against the official notice of each year and
-- correct this table (it is data, not code).
INSERT INTO public_holiday (day, name, kind, source) VALUES
    ('2026-01-01', 'Tết Dương lịch', 'holiday', 'seed (check)'),
    ('2026-02-14', 'Tết Nguyên đán', 'holiday', 'seed (check)'),
    ('2026-02-15', 'Tết Nguyên đán', 'holiday', 'seed (check)'),
    ('2026-02-16', 'Tết Nguyên đán (30 Tết)', 'holiday', 'seed (check)'),
    ('2026-02-17', 'Tết Nguyên đán (mùng 1)', 'holiday', 'seed (check)'),
    ('2026-02-18', 'Tết Nguyên đán (mùng 2)', 'holiday', 'seed (check)'),
    ('2026-02-19', 'Tết Nguyên đán (mùng 3)', 'holiday', 'seed (check)'),
    ('2026-02-20', 'Tết Nguyên đán (mùng 4)', 'holiday', 'seed (check)'),
    ('2026-04-27', 'Giỗ Tổ Hùng Vương (bù)', 'holiday', 'seed (check)'),
    ('2026-04-30', 'Ngày Chiến thắng', 'holiday', 'seed (check)'),
    ('2026-05-01', 'Quốc tế Lao động', 'holiday', 'seed (check)'),
    ('2026-09-01', 'Quốc khánh (liền kề)', 'holiday', 'seed (check)'),
    ('2026-09-02', 'Quốc khánh', 'holiday', 'seed (check)'),
    ('2027-01-01', 'Tết Dương lịch', 'holiday', 'seed (check)'),
    ('2027-02-05', 'Tết Nguyên đán (29 Tết)', 'holiday', 'seed (check)'),
    ('2027-02-08', 'Tết Nguyên đán (mùng 3)', 'holiday', 'seed (check)'),
    ('2027-02-09', 'Tết Nguyên đán (mùng 4)', 'holiday', 'seed (check)'),
    ('2027-02-10', 'Tết Nguyên đán (mùng 5)', 'holiday', 'seed (check)'),
    ('2027-02-11', 'Tết Nguyên đán (bù)', 'holiday', 'seed (check)'),
    ('2027-04-16', 'Giỗ Tổ Hùng Vương', 'holiday', 'seed (check)'),
    ('2027-04-30', 'Ngày Chiến thắng', 'holiday', 'seed (check)'),
    ('2027-05-03', 'Quốc tế Lao động (bù)', 'holiday', 'seed (check)'),
    ('2027-09-02', 'Quốc khánh', 'holiday', 'seed (check)'),
    ('2027-09-03', 'Quốc khánh (liền kề)', 'holiday', 'seed (check)');
