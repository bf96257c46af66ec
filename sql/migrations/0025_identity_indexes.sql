-- Every version of one parcel, right, restriction or responsibility by its stable id.
-- Each table had two partial indexes on the id (current versions, ended versions), which
-- serve a query that says which it wants; a query over all versions (the parcel's last
-- change, its history, as_of reads) matched neither and scanned the whole table: 270 ms
-- per parcel file on a 1M-parcel register (docs/benchmarks.md, "Parcel file"). One index
-- over all versions replaces the ended-versions one; the unique index on the current
-- versions stays (it is the constraint).
CREATE INDEX parcel_parcel_id_idx ON parcel (parcel_id);
DROP INDEX parcel_closed_id_idx;
CREATE INDEX land_right_right_id_idx ON land_right (right_id);
DROP INDEX land_right_closed_id_idx;
CREATE INDEX restriction_restriction_id_idx ON restriction (restriction_id);
DROP INDEX restriction_closed_id_idx;
CREATE INDEX responsibility_responsibility_id_idx ON responsibility (responsibility_id);
DROP INDEX responsibility_closed_id_idx;
-- certificate has had its full index since 0016
DROP INDEX certificate_closed_id_idx;
