"""`make bench`: every benchmark, each against its named peer, figures printed as ratios."""

from bench import import_bench, lookup_bench


def main() -> None:
    print("== import: cadastre import vs ogr2ogr ==")
    import_bench.main()
    print("== point lookups: cadastre serve vs tipg ==")
    lookup_bench.main()


if __name__ == "__main__":
    main()
