"""`make bench`: every benchmark, each against its named peer, figures printed as ratios."""

from bench import (
    export_bench,
    import_bench,
    lookup_bench,
    ogc_bench,
    parcel_file_bench,
    tiles_bench,
)


def main() -> None:
    print("== import: cadastre import vs ogr2ogr ==")
    import_bench.main()
    print("== point lookups: cadastre serve vs tipg ==")
    lookup_bench.main()
    print("== the officer's parcel file vs the anonymous point lookup (same server, same run) ==")
    parcel_file_bench.main()
    print("== vector tiles (random z16): cadastre serve vs tipg ==")
    tiles_bench.main()
    print("== OGC API - Features small-bbox reads: cadastre serve vs tipg ==")
    ogc_bench.main()
    print("== exports: cadastre export vs ogr2ogr (GeoPackage, FlatGeobuf) ==")
    export_bench.main()


if __name__ == "__main__":
    main()
