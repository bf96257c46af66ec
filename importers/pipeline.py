"""`cadastre import PATH`: read every sheet, decide encodings, CRS and profile, validate each
feature, quarantine the rejected ones, and load the rest in one transaction (all or
nothing). The public entry point is :func:`run_import`."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
from sqlalchemy.engine import Connection, Engine, Transaction

from cadastre import memory
from cadastre.errors import (
    CoordinateQuestion,
    ImportRejected,
    ImportSourceError,
    InvalidInput,
    UnknownProfile,
)
from cadastre.migrations import storage_srid
from gis import wkb
from gis.crs import CrsQuestion, infer_source_crs
from importers import checks, load
from importers.formats import TABLE_EXTENSIONS
from importers.land_use_codes import MODES as LAND_USE_MODES
from importers.land_use_codes import LandUseCodes, Tally
from importers.profiles import choose_profile, party_kinds
from importers.read import LayerStream, reread
from importers.read import stream_layer as read_stream
from importers.records import canonicalise, with_personal_columns
from importers.report import ImportReport, LayerReport
from importers.sources import (
    Layer,
    describe_non_spatial,
    find_datasets,
    list_layers,
    opened,
    source_fingerprint,
)
from importers.transform import extent_of, to_storage

POLYGON_TYPES = frozenset({"Polygon", "MultiPolygon", "Polygon Z", "MultiPolygon Z",
                           "3D Polygon", "3D MultiPolygon", "CurvePolygon", "MultiSurface"})


@dataclass(frozen=True, slots=True)
class ImportOptions:
    kind: str = "parcels"  # parcels | register
    profile: str = "auto"
    province: str | None = None
    srid: int | None = None  # CRS of the source, when its files do not say
    encoding: str = "auto"
    commune: str | None = None
    sheet: str | None = None  # map sheet number for files holding one sheet without a column
    dry_run: bool = False
    on_error: str = "quarantine"  # quarantine | abort
    force: bool = False
    repair: bool = False
    area_tolerance: float = 0.05  # relative, recorded vs computed measured area
    overlap_tolerance: float = 0.05  # m²
    #: Loads of at least this many parcels, and at least half the register's size, rebuild
    #: indexes and foreign keys after COPY instead of maintaining them row by row (4x faster
    #: from 5,000 parcels: 0.8 s against 3.4 s; smaller loads keep row-by-row audit rows).
    bulk_rows: int = 5_000
    #: Record an import whose every feature was rejected (all in the quarantine); without
    #: it such an import fails and writes nothing.
    allow_empty: bool = False
    #: Land-use codes of older lists: "map" them to today's (a legacy file), or quarantine
    #: them, "strict" (a new survey under Circular 08/2024). importers.land_use_codes
    land_use_codes: str = "map"


Progress = Callable[[str], None]


@dataclass
class _Prepared:
    """One layer after reading, mapping and checks; rows still include rejected ones."""

    layer: Layer
    report: LayerReport
    stream: LayerStream  # rejected rows are read again from it for the quarantine
    frame: pd.DataFrame  # canonical columns
    geoms: wkb.EncodedGeometries  # checked, in the storage SRID; null where rejected
    area: np.ndarray  # of ``geoms`` (m²), NaN where rejected
    source_srid: int | None
    reason_code: np.ndarray
    reason: np.ndarray
    repair_note: np.ndarray
    #: source column -> personal field (the profile's mapping), kept with quarantined rows
    personal: dict[str, str]


@contextmanager
def _transaction(bind: Engine | Connection) -> Iterator[tuple[Connection, Transaction]]:
    """The import's own transaction; inside a caller's transaction (tests) a savepoint."""
    if isinstance(bind, Engine):
        with bind.connect() as conn, conn.begin() as transaction:
            yield conn, transaction
    else:
        with bind.begin_nested() as savepoint:
            yield bind, savepoint


def run_import(
    bind: Engine | Connection, path: Path, options: ImportOptions, *,
    progress: Progress | None = None,
) -> ImportReport:
    say = progress or (lambda _msg: None)
    if options.on_error not in ("quarantine", "abort"):
        raise InvalidInput(f"--on-error must be quarantine or abort, not {options.on_error!r}")
    if options.land_use_codes not in LAND_USE_MODES:
        raise InvalidInput(f"--land-use-codes must be map or strict, not "
                           f"{options.land_use_codes!r}")
    started = datetime.now(UTC)
    clock = time.perf_counter()
    report = ImportReport(source=str(path), kind=options.kind)
    sha256, size = source_fingerprint(path) if path.exists() else ("", 0)
    if not path.exists():
        raise ImportSourceError(f"{path}: no such file or directory")
    report.sha256, report.bytes = sha256, size
    with _transaction(bind) as (conn, transaction), ExitStack() as unpacked:
        load.begin_import(conn)
        srid = storage_srid(conn)
        report.storage_srid = srid
        previous = load.previous_import(conn, sha256, options.kind)
        if previous is not None and not options.force:
            report.status = "already-imported"
            report.previous_import = previous
            return report
        if options.kind == "register":
            from importers.registers import import_register

            return import_register(conn, transaction, path, options, report, started, say)
        # An archive stays unpacked until the end: quarantined rows are read again from it.
        root = unpacked.enter_context(opened(path))
        layers = _parcel_layers(root, path, options)
        say(f"{len(layers)} layer(s) to read")
        land_use = LandUseCodes.load(conn, mode=options.land_use_codes)
        prepared = [_prepare(layer, options, srid, say, land_use) for layer in layers]
        report.layers = [p.report for p in prepared]
        report.timings["read and check"] = time.perf_counter() - clock
        report.kept = checks.cross_checks(
            conn, prepared, area_tolerance=options.area_tolerance,
            overlap_tolerance=options.overlap_tolerance, srid=srid, say=say)
        memory.release()
        report.timings["topology"] = time.perf_counter() - clock - report.timings["read and check"]
        rejected_total = sum(int((p.reason_code != None).sum()) for p in prepared)  # noqa: E711
        for p in prepared:
            p.report.rejected = Counter(str(c) for c in p.reason_code if c is not None)
            p.report.accepted = int((p.reason_code == None).sum())  # noqa: E711
            p.report.repaired = int(((p.repair_note != None)  # noqa: E711
                                     & (p.reason_code == None)).sum())  # noqa: E711
        absent = sum(1 for k in report.kept if not k["in_new_edition"])
        if (rejected_total or absent) and options.on_error == "abort":
            transaction.rollback()
            report.status = "rejected"
            failed = [f"{rejected_total:,} feature(s) failed validation"] if (
                rejected_total) else []
            if absent:
                failed.append(f"{absent:,} parcel(s) that the new edition leaves out are "
                              "under an injunction or a mortgage and would be kept")
            raise ImportRejected(
                f"{'; '.join(failed)}; nothing was written",
                hint="see the report (--report FILE), fix the source, or use "
                "--on-error quarantine",
                report=report,
            )
        accepted = sum(p.report.accepted for p in prepared)
        if accepted == 0 and rejected_total == 0:
            raise ImportSourceError(f"{path}: no parcel features to import")
        if accepted == 0 and not options.allow_empty:
            transaction.rollback()
            report.status = "rejected"
            raise ImportRejected(
                f"{path.name}: all {rejected_total:,} feature(s) were rejected "
                f"({_reasons(prepared)}); nothing was written",
                hint="see each feature's reason in the report (--report FILE) and fix the "
                "source; --allow-empty records the import with every feature quarantined",
                report=report,
            )
        if options.dry_run:
            transaction.rollback()
            report.status = "dry-run"
            report.counts["would_load"] = accepted
            report.counts["would_quarantine"] = rejected_total
            if report.kept:
                report.counts["would_keep"] = len(report.kept)
            report.timings["total"] = time.perf_counter() - clock
            return report
        say(f"loading {accepted:,} parcels")
        loaded_at = time.perf_counter()
        _load(conn, prepared, options, report, srid, sha256, size, started)
        report.timings["load"] = time.perf_counter() - loaded_at
        report.timings["total"] = time.perf_counter() - clock
        report.status = "committed"
    return report


def _reasons(prepared: list[_Prepared]) -> str:
    """The rejection codes of an import, most frequent first: ``outside-crs-area: 12``."""
    counts: Counter[str] = Counter()
    for p in prepared:
        counts.update(p.report.rejected)
    return ", ".join(f"{code}: {n:,}" for code, n in counts.most_common())


def _parcel_layers(root: Path, original: Path, options: ImportOptions) -> list[Layer]:
    datasets = find_datasets(root)
    if not datasets:
        tables = [p for p in root.rglob("*") if p.suffix.lower() in TABLE_EXTENSIONS]
        hint = " (a register? use --kind register)" if tables else ""
        raise ImportSourceError(
            f"{original.name}: holds no spatial data (found: {describe_non_spatial(root)})"
            + hint)
    layers: list[Layer] = []
    for dataset in datasets:
        shown = str(dataset.relative_to(root)) if dataset != root else original.name
        if root != original and original.is_file():
            shown = f"{original.name}/{shown}"
        found = list_layers(dataset, shown)
        polygonal = [layer for layer in found
                     if layer.format.cad or layer.geometry_type in POLYGON_TYPES
                     or (layer.geometry_type in (None, "Unknown") and _has_polygons(layer))]
        if options.profile != "auto" or any(layer.format.layers_by_profile for layer in found):
            polygonal = [layer for layer in polygonal if _profile_wants(layer, options)]
        if not polygonal:
            kinds = ", ".join(sorted({str(layer.geometry_type) for layer in found})) or "none"
            raise ImportSourceError(
                f"{shown}: holds {kinds} geometry, not parcel polygons; nothing was imported")
        layers.extend(polygonal)
    return layers


def _has_polygons(layer: Layer) -> bool:
    """A layer of mixed geometry types (MapInfo, GML): does it hold polygons at all?"""
    import pyogrio

    sample = pyogrio.read_dataframe(layer.path, layer=layer.name, max_features=1000,
                                    columns=[], use_arrow=True)
    return bool(sample.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).any())


def _profile_wants(layer: Layer, options: ImportOptions) -> bool:
    from importers.profiles import available_profiles

    profiles = available_profiles()
    if options.profile != "auto":
        if options.profile not in profiles:
            raise UnknownProfile(f"unknown profile {options.profile!r}",
                                 hint="available: auto, " + ", ".join(sorted(profiles)))
        return profiles[options.profile].layer_matches(layer.name)
    return any(p.layer_pattern and p.layer_matches(layer.name) for p in profiles.values())


def _prepare(layer: Layer, options: ImportOptions, srid: int, say: Progress,
             land_use: LandUseCodes) -> _Prepared:
    """Read, decode, map and check one layer a batch at a time: what is kept is the
    canonical frame (land-use codes translated to today's list) and the checked geometries
    as WKB, not the source."""
    say(f"reading {layer.label} ({layer.features:,} features, {layer.driver})")
    provided = frozenset(f for f, v in (("commune_code", options.commune),
                                        ("sheet_number", options.sheet)) if v is not None)
    with read_stream(layer, encoding=options.encoding) as stream:
        report = LayerReport(label=layer.label, driver=layer.driver, features=0,
                             encoding=stream.encoding,
                             encoding_confidence=stream.encoding_confidence,
                             encoding_reason=stream.encoding_reason,
                             skipped_non_polygon=stream.skipped_non_polygon)
        try:
            choice = choose_profile(options.profile, layer.name, stream.columns,
                                    provided=provided)
        except UnknownProfile as exc:  # say which file of the import it is about
            raise UnknownProfile(f"{layer.label}: {exc.message}", hint=exc.hint) from exc
        report.profile, report.profile_reason = choice.profile.name, choice.reason
        frames: list[pd.DataFrame] = []
        checked_batches: list[checks.Checked] = []
        tally = Tally()
        # A batch's geometry is checked while its text is decoded and mapped: both cores
        # work side by side. When the text fails (an encoding question), the check is
        # waited for and the text's error raised, as when the two ran one after the other.
        with ThreadPoolExecutor(1) as geometry:
            for batch in stream.batches:
                checking = geometry.submit(checks.check_geometries, layer, batch.geometry,
                                           repair=options.repair)
                try:
                    canonical = canonicalise(stream.decode(batch.frame), choice,
                                             commune=options.commune, sheet=options.sheet)
                except BaseException:
                    wait([checking])
                    raise
                checked = checking.result()
                frame = canonical.frame
                if choice.profile.owner_kinds and "owner_kind" in frame:
                    frame["party_kind"] = party_kinds(frame["owner_kind"],
                                                      choice.profile.owner_kinds)
                bad_identity = canonical.problems.notna().to_numpy()
                free = checked.reason_code == None  # noqa: E711
                checked.reason_code[bad_identity & free] = "bad-identity"
                checked.reason[bad_identity & free] = (
                    canonical.problems.to_numpy()[bad_identity & free])
                use_code, use_reason = land_use.apply(frame, tally)
                refused = (use_code != None) & (checked.reason_code == None)  # noqa: E711
                checked.reason_code[refused] = use_code[refused]
                checked.reason[refused] = use_reason[refused]
                frames.append(frame)
                checked_batches.append(checked)
                del batch, canonical
    frame = (frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
             ).reset_index(drop=True)
    del frames
    report.features = len(frame)
    report.land_use = tally.to_json()
    checked = checks.Checked(wkb.EncodedGeometries.concat([c.geoms for c in checked_batches]),
                             *(np.concatenate([getattr(c, f) for c in checked_batches])
                               for f in ("area", "reason_code", "reason", "repair_note")))
    del checked_batches
    memory.release()

    good = checked.geoms.present()
    if not good.any():  # every feature already rejected: no coordinates to place the CRS by
        report.crs = "(not decided: no feature has a usable geometry)"
        declared = options.srid or (stream.crs.to_epsg() if stream.crs is not None else None)
        return _Prepared(layer, report, stream, frame, checked.geoms, checked.area, declared,
                         checked.reason_code, checked.reason, checked.repair_note,
                         choice.profile.personal_columns(stream.columns))
    bounds = extent_of(checked.geoms.bounds[good])
    try:
        source_crs = infer_source_crs(stream.crs, bounds, srid=options.srid,
                                      province=options.province)
        report.crs = source_crs.how
        geoms, area = to_storage(checked.geoms, checked.area, source_crs, srid, bounds,
                                  options.province)
    except CrsQuestion as exc:
        raise CoordinateQuestion(f"{layer.label}: {exc}") from exc
    checks.reject_outside_area(geoms, srid, checked.reason_code, checked.reason)
    return _Prepared(layer, report, stream, frame, geoms, area, source_crs.epsg,
                     checked.reason_code, checked.reason, checked.repair_note,
                     choice.profile.personal_columns(stream.columns))


#: What a layer holds once its accepted geometries are handed to the load.
_NO_GEOMETRIES = wkb.EncodedGeometries.concat([])


def _load(
    conn: Connection, prepared: list[_Prepared], options: ImportOptions, report: ImportReport,
    srid: int, sha256: str, size: int, started: datetime,
) -> None:
    accepted_frames, accepted, areas, quarantine_rows = [], [], [], []
    for p in prepared:
        ok = p.reason_code == None  # noqa: E711
        frame = p.frame if ok.all() else p.frame[ok]  # no copy of a clean layer
        notes = p.repair_note[ok]
        if (notes != None).any():  # noqa: E711
            frame = frame.assign(source_attributes=[
                _with_note(attrs, note) for attrs, note in
                zip(frame["source_attributes"], notes, strict=True)])
        accepted_frames.append(frame)
        accepted.append(p.geoms if ok.all() else p.geoms.subset(ok))
        areas.append(p.area[ok])
        if (~ok).any():
            quarantine_rows.append(_quarantine_rows(p, ~ok))
        p.geoms = _NO_GEOMETRIES  # the loaded WKB is freed once the parcels are COPYed
    frame = (accepted_frames[0].reset_index(drop=True) if len(accepted_frames) == 1
             else pd.concat(accepted_frames, ignore_index=True))
    del accepted_frames
    memory.release()
    # In a list that the load empties: its WKB (200 MB per million parcels) is freed
    # before the holders are loaded.
    geoms = [wkb.EncodedGeometries.concat(accepted)]
    del accepted
    area = np.concatenate(areas)
    note = f"import of {Path(report.source).name} ({len(frame):,} parcels)"
    change = load.begin_change(conn, source=report.source, sha256=sha256, note=note)
    counts: Counter[str] = Counter()
    if len(frame):
        counts, bulk = load.load_accepted(conn, frame, geoms, area, srid=srid, change=change,
                                          bulk_rows=options.bulk_rows,
                                          kept=[k["parcel_id"] for k in report.kept])
        if bulk:
            report.warnings.append(
                "bulk load: indexes and foreign keys were rebuilt and re-validated after COPY "
                "(the register's tables were locked while the import ran)")
    import_id = load.next_import_id(conn)
    rejected = pd.concat(quarantine_rows, ignore_index=True) if quarantine_rows else (
        pd.DataFrame())
    report.import_id = import_id
    report.counts.update(counts)
    report.counts["quarantined"] = len(rejected)
    if counts.get("unknown_land_use_codes"):
        report.warnings.append(
            f"{counts['unknown_land_use_codes']:,} land-use codes are not in the code list; "
            "they are kept in the parcels' source attributes")
    if counts.get("parcels_retired"):
        ended = ", ".join(f"{counts[k]:,} {what}" for k, what in (
            ("rights_ended", "rights"), ("restrictions_ended", "restrictions"),
            ("responsibilities_ended", "responsibilities")) if counts.get(k))
        left = counts.get("certificates_ended", 0) + counts.get("certificates_endorsed", 0)
        report.warnings.append(
            f"{counts['parcels_retired']:,} parcels of the replaced sheets are not in the new "
            "edition and were retired" + (f"; their {ended} ended with them" if ended else "")
            + (f"; {left:,} certificates no longer cover them (ended or endorsed)"
               if left else ""))
    first = prepared[0].report
    load.record_import(
        conn, import_id=import_id, kind=options.kind, source=report.source, sha256=sha256,
        size=size, profile=first.profile, encoding=first.encoding,
        confidence=first.encoding_confidence, crs=first.crs,
        options=_json(asdict(options)), counts=_json(dict(report.counts)),
        report=_json(report.to_json()), started_at=started,
        change=change)
    load.quarantine(conn, import_id, rejected)


def _with_note(attributes: str, note: str | None) -> str:
    if note is None:
        return attributes
    data = orjson.loads(attributes)
    data["_repaired"] = note
    return orjson.dumps(data).decode()


def _quarantine_rows(p: _Prepared, mask: np.ndarray) -> pd.DataFrame:
    rows = np.flatnonzero(mask)
    attributes, source = reread(p.stream, rows)
    identity = checks.identities(p.frame.iloc[rows])
    geometry = wkb.ewkb_hex(wkb.objects(source), p.source_srid or 0)
    return pd.DataFrame({
        "dataset": p.layer.dataset,
        "layer": p.layer.name,
        "feature_index": rows,
        "reason_code": p.reason_code[rows],
        "reason": p.reason[rows],
        "identity": identity.to_numpy(),
        "attributes": [orjson.dumps(with_personal_columns(r, p.personal), default=str,
                                    option=orjson.OPT_NON_STR_KEYS).decode()
                       for r in attributes.to_dict("records")],
        "geom": geometry,
    })



def _json(value: object) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
