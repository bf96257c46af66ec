"""Make the CAD fixtures: sheet12.dxf (written here as plain DXF R12 text: closed polylines
for 3 x 3 parcels and one TEXT label "number/land-use" inside each, plus boundary linework
that is not a parcel) and sheet12.dgn (converted from the DXF with GDAL's ogr2ogr, which
carries the text labels into DGN v7 text elements).

Run from this directory: python make_cad.py  (needs gdal-bin for the .dgn)."""

import subprocess

X0, Y0, SIZE = 585_000.0, 2_326_000.0, 20.0
CODES = ["ODT", "ODT", "CLN", "ODT", "TMD", "ODT", "DGD", "ODT", "ODT"]


def entity(kind: str, layer: str, *pairs: tuple[int, object]) -> list[str]:
    lines = ["0", kind, "8", layer]
    for code, value in pairs:
        lines += [str(code), str(value)]
    return lines


def polyline(points: list[tuple[float, float]], layer: str, closed: bool) -> list[str]:
    lines = entity("POLYLINE", layer, (66, 1), (70, 1 if closed else 0))
    for x, y in points:
        lines += entity("VERTEX", layer, (10, f"{x:.3f}"), (20, f"{y:.3f}"))
    lines += ["0", "SEQEND", "8", layer]
    return lines


def main() -> None:
    body: list[str] = []
    number = 1
    for row in range(3):
        for col in range(3):
            x, y = X0 + col * SIZE, Y0 + (2 - row) * SIZE
            ring = [(x, y), (x + SIZE, y), (x + SIZE, y + SIZE), (x, y + SIZE)]
            body += polyline(ring, "RANHTHUA", closed=True)
            body += entity("TEXT", "SOTHUA", (10, f"{x + 6:.3f}"), (20, f"{y + 9:.3f}"),
                           (40, 1.5), (1, f"{number}/{CODES[number - 1]}"))
            number += 1
    # a road centre line: linework, not a parcel
    body += polyline([(X0 - 5, Y0 - 5), (X0 + 65, Y0 - 5)], "TIMDUONG", closed=False)
    dxf = ["0", "SECTION", "2", "ENTITIES", *body, "0", "ENDSEC", "0", "EOF"]
    with open("sheet12.dxf", "w", encoding="ascii", newline="\r\n") as handle:
        handle.write("\n".join(dxf) + "\n")
    subprocess.run(["ogr2ogr", "-f", "DGN", "sheet12.dgn", "sheet12.dxf"], check=True)


if __name__ == "__main__":
    main()
