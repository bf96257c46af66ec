"""Reference data for administrative units, kept in step with the gis registry."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.crs import provinces, tm3_epsg_for_meridian


def sync_provinces(conn: Connection) -> int:
    """Insert the province versions of the registry that the database lacks, with their
    succession links (old province -> its successor from the next day). Returns the number
    of provinces added; a second run adds nothing."""
    added = 0
    ids: dict[tuple[str, object], int] = {}
    for p in provinces():
        epsg = tm3_epsg_for_meridian(p.tm3_meridian) if p.tm3_meridian is not None else None
        row = conn.execute(
            sa.text(
                "SELECT id FROM admin_unit WHERE level = 'province' AND code = :code "
                "AND valid_from IS NOT DISTINCT FROM :vf"
            ),
            {"code": p.code, "vf": p.valid_from},
        ).scalar()
        if row is None:
            row = conn.execute(
                sa.text(
                    "INSERT INTO admin_unit (level, code, name, kind, valid_from, valid_to, "
                    "tm3_epsg, source) VALUES ('province', :code, :name, :kind, :vf, :vt, "
                    ":epsg, 'gis/data/provinces.csv') RETURNING id"
                ),
                {
                    "code": p.code,
                    "name": p.name,
                    "kind": p.kind,
                    "vf": p.valid_from,
                    "vt": p.valid_to,
                    "epsg": epsg,
                },
            ).scalar_one()
            added += 1
        ids[(p.code, p.valid_from)] = int(row)
    for p in provinces():
        if p.successor_code is None or p.valid_to is None:
            continue
        successor = next(
            (
                s
                for s in provinces()
                if s.code == p.successor_code
                and s.valid_from is not None
                and (s.valid_from - p.valid_to).days == 1
            ),
            None,
        )
        if successor is None:
            continue
        kind = "continued" if successor.code == p.code else "merged"
        conn.execute(
            sa.text(
                "INSERT INTO admin_unit_succession (predecessor_id, successor_id, effective_on, "
                "kind) VALUES (:a, :b, :d, :k) ON CONFLICT DO NOTHING"
            ),
            {
                "a": ids[(p.code, p.valid_from)],
                "b": ids[(successor.code, successor.valid_from)],
                "d": successor.valid_from,
                "k": kind,
            },
        )
    return added
