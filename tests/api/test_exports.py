"""Bulk exports over the API: the job's lifecycle (queued, running, done, the download, the
record of who exported what), every format read back, the analyst's limit, roles, bad
input as problem+json, no personal data for any role, and a restart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyogrio
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from cadastre.settings import Settings

API = "/api/v1"
LIMIT = 100
PARCEL_COLUMNS = {"parcel_id", "commune_code", "sheet_number", "parcel_number", "land_use",
                  "area_legal", "area_measured", "address", "valid_from"}


@pytest.fixture(scope="module")
def export_settings(api_settings: Settings, tmp_path_factory) -> Settings:
    return api_settings.model_copy(update={
        "export_dir": Path(tmp_path_factory.mktemp("exports")),
        "export_max_features_without_approval": LIMIT})


@pytest.fixture(scope="module")
def exports(export_settings: Settings) -> Iterator[TestClient]:
    """An app whose export jobs write to a temporary directory and whose analysts may
    export up to LIMIT features."""
    with TestClient(create_app(export_settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def small_bbox(api_engine) -> tuple[list[float], int]:
    """A box (EPSG:5897) around a few parcels, and how many parcels it touches."""
    with api_engine.connect() as conn:
        box = conn.execute(sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
            "ST_Extent(geom) AS e FROM (SELECT geom FROM current_parcel ORDER BY parcel_id "
            "LIMIT 20) s) x")).one()
        count = conn.execute(sa.text(
            "SELECT count(*) FROM current_parcel WHERE ST_Intersects(geom, "
            "ST_MakeEnvelope(:a, :b, :c, :d, 5897))"),
            {"a": box[0], "b": box[1], "c": box[2], "d": box[3]}).scalar_one()
    assert 0 < count <= LIMIT
    return [float(v) for v in box], int(count)


def wait_done(client: TestClient, location: str, headers: dict[str, str],
              seconds: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        job = client.get(location, headers=headers).json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def download(client: TestClient, job: dict[str, Any], headers: dict[str, str],
             tmp_path: Path) -> Path:
    response = client.get(job["links"]["file"], headers=headers)
    assert response.status_code == 200, response.text
    name = response.headers["content-disposition"].split("filename=")[1].strip('"')
    path = tmp_path / name
    path.write_bytes(response.content)
    return path


def read(path: Path):
    if path.suffix == ".parquet" and "Parquet" not in pyogrio.list_drivers():
        import geopandas  # pyogrio's bundled GDAL has no Parquet driver

        return geopandas.read_parquet(path)
    return pyogrio.read_dataframe(path)


def test_job_lifecycle_and_who_exported_what(exports, headers, api_engine, small_bbox,
                                             tmp_path):
    bbox, count = small_bbox
    analyst = headers("gis_analyst")
    response = exports.post(f"{API}/exports", headers=analyst, json={
        "collection": "parcels", "format": "gpkg", "bbox": bbox})
    assert response.status_code == 202, response.text
    queued = response.json()
    assert queued["status"] in ("queued", "running", "done")
    assert response.headers["location"] == f"{API}/exports/{queued['id']}"
    assert queued["requested_by"] == "t-gis-analyst" and queued["role"] == "gis_analyst"
    job = wait_done(exports, response.headers["location"], analyst)
    assert job["status"] == "done", job
    assert job["feature_count"] == count and job["bytes"] > 0
    assert job["crs"] == "EPSG:5897" and job["filters"]["bbox"] == bbox
    assert job["started_at"] and job["finished_at"] and "file_path" not in job
    path = download(exports, job, analyst, tmp_path)
    assert path.suffix == ".gpkg"
    assert pyogrio.read_info(path)["features"] == count
    # the record
    with api_engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM export_job WHERE id = :j"),
                           {"j": job["id"]}).mappings().one()
    assert (row["requested_by"], row["role"], row["channel"], row["collection"],
            row["format"], row["status"], row["feature_count"]) == (
        "t-gis-analyst", "gis_analyst", "api", "parcels", "gpkg", "done", count)
    assert row["user_id"] is not None
    # the analyst's own list; another analyst (a service account) neither sees nor takes it
    mine = exports.get(f"{API}/exports", headers=analyst).json()["exports"]
    assert job["id"] in [j["id"] for j in mine]
    other = headers("api-key")
    assert job["id"] not in [j["id"] for j in
                             exports.get(f"{API}/exports", headers=other).json()["exports"]]
    for url in (f"{API}/exports/{job['id']}", job["links"]["file"]):
        refused = exports.get(url, headers=other)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
    assert exports.get(f"{API}/exports", headers=other, params={"all": "true"}
                       ).status_code == 403
    # supervisors and admins see every export and may download it
    for role in ("supervisor", "admin"):
        assert exports.get(job["links"]["file"], headers=headers(role)).status_code == 200
        everyone = exports.get(f"{API}/exports", headers=headers(role),
                               params={"all": "true"}).json()["exports"]
        assert job["id"] in [j["id"] for j in everyone]


@pytest.mark.parametrize(("fmt", "suffix", "crs"), [
    ("gpkg", ".gpkg", "EPSG:5897"), ("shp", ".zip", "EPSG:5897"), ("fgb", ".fgb", "EPSG:5897"),
    ("geojson", ".geojson", "EPSG:4326"), ("geoparquet", ".parquet", "EPSG:5897"),
    ("csv", ".zip", "EPSG:5897")])
def test_every_format_downloads_and_reads_back(exports, headers, api_engine, tmp_path, fmt,
                                               suffix, crs):
    supervisor = headers("supervisor")
    response = exports.post(f"{API}/exports", headers=supervisor,
                            json={"collection": "parcels", "format": fmt})
    assert response.status_code == 202, response.text
    job = wait_done(exports, response.headers["location"], supervisor)
    assert job["status"] == "done", job
    path = download(exports, job, supervisor, tmp_path)
    assert path.suffix == suffix
    frame = read(path)
    with api_engine.connect() as conn:
        expected = dict(conn.execute(sa.text(
            "SELECT parcel_id, address FROM current_parcel")).all())
    assert len(frame) == len(expected) == job["feature_count"]
    assert (f"EPSG:{frame.crs.to_epsg()}" if fmt == "geoparquet"
            else pyogrio.read_info(path)["crs"]) == crs
    assert dict(zip(frame["parcel_id"], frame["address"], strict=True)) == expected
    assert any("ố" in a or "ư" in a for a in expected.values())
    if fmt == "shp":
        assert any("10 characters" in w for w in job["warnings"])
        assert "commune_co" in frame.columns
    else:
        assert set(frame.columns) >= PARCEL_COLUMNS


def test_analyst_limit_needs_a_supervisor(exports, headers, api_engine):
    with api_engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM current_parcel")).scalar_one()
    assert total > LIMIT
    body = {"collection": "parcels", "format": "fgb"}
    refused = exports.post(f"{API}/exports", headers=headers("gis_analyst"), json=body)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["code"] == "export-needs-approval"
    assert f"{total} features" in problem["detail"]
    assert f"up to {LIMIT}" in problem["detail"]
    assert "supervisor" in problem["hint"]
    accepted = exports.post(f"{API}/exports", headers=headers("supervisor"), json=body)
    assert accepted.status_code == 202
    job = wait_done(exports, accepted.headers["location"], headers("supervisor"))
    assert job["status"] == "done" and job["feature_count"] == total
    assert job["requested_by"] == "t-supervisor"


@pytest.mark.parametrize(("role", "status"), [
    ("anonymous", 401), ("land_officer", 403), ("counter_clerk", 403)])
def test_roles_that_may_not_export(exports, headers, role, status):
    response = exports.post(f"{API}/exports", headers=headers(role),
                            json={"collection": "map-sheets", "format": "gpkg"})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"collection": "owners", "format": "gpkg"}, 422, "unknown-collection"),
    ({"collection": "parcels", "format": "kml"}, 422, "unknown-format"),
    ({"collection": "parcels", "format": "gpkg", "crs": "EPSG:999999"}, 422, "unknown-crs"),
    ({"collection": "parcels", "format": "gpkg", "crs": "EPSG:2154"}, 422, "unknown-crs"),
    ({"collection": "parcels", "format": "geojson", "crs": "EPSG:5897"}, 422, "unknown-crs"),
    ({"collection": "map-sheets", "format": "gpkg", "bbox": [590000, 2330000, 580000,
                                                             2320000]}, 422, "invalid-bbox"),
    ({"collection": "map-sheets", "format": "gpkg", "bbox": [-180, -90, 180, 90]}, 422,
     "invalid-bbox"),
    ({"collection": "map-sheets", "format": "gpkg", "crs": "EPSG:4326",
      "bbox": [-180, -90, 180, 90]}, 422, "invalid-bbox"),
    ({"collection": "map-sheets", "format": "gpkg", "bbox": [1, 2, 3]}, 422, "invalid-bbox"),
    ({"collection": "map-sheets", "format": "gpkg", "as_of": "yesterday"}, 422,
     "invalid-input"),
    ({"collection": "map-sheets"}, 422, "invalid-request"),
])
def test_bad_requests_are_problems(exports, headers, api_engine, body, status, code):
    with api_engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM export_job")).scalar_one()
    response = exports.post(f"{API}/exports", headers=headers("gis_analyst"), json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    with api_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM export_job")).scalar_one() == before


def test_no_personal_data_for_any_role(exports, headers, api_engine, person, small_bbox,
                                       tmp_path):
    bbox, _ = small_bbox
    with api_engine.connect() as conn:
        personal = {v for v in conn.execute(sa.text(
            "SELECT name FROM party UNION SELECT national_id FROM party_personal UNION "
            "SELECT address FROM party_personal")).scalars() if v}
    assert {person["name"], person["national_id"], person["holder_address"]} <= personal
    for role in ("gis_analyst", "supervisor", "admin"):
        for collection in ("parcels", "land-use-purposes"):
            response = exports.post(f"{API}/exports", headers=headers(role), json={
                "collection": collection, "format": "geojson", "bbox": bbox,
                "bbox_crs": "EPSG:5897"})
            assert response.status_code == 202, response.text
            job = wait_done(exports, response.headers["location"], headers(role))
            frame = pyogrio.read_dataframe(download(exports, job, headers(role), tmp_path))
            assert len(frame) > 0
            names = {c.lower() for c in frame.columns}
            assert not names & {"holder", "holders", "owner", "national_id", "birth_year",
                                "holder_address", "party_id", "holder_name"}
            for column in frame.columns:
                if frame[column].dtype == object and column != "geometry":
                    assert not personal & set(frame[column].dropna().astype(str)), (
                        role, collection, column)


def test_restart_fails_running_jobs_and_runs_queued_ones(export_settings, api_engine,
                                                         headers):
    with api_engine.begin() as conn:
        left_running = conn.execute(sa.text(
            "INSERT INTO export_job (requested_by, role, channel, collection, format, crs, "
            "status, started_at) VALUES ('t-gis-analyst', 'gis_analyst', 'api', 'parcels', "
            "'gpkg', 'EPSG:5897', 'running', now()) RETURNING id")).scalar_one()
        left_queued = conn.execute(sa.text(
            "INSERT INTO export_job (requested_by, role, channel, collection, format, crs, "
            "filters) VALUES ('t-gis-analyst', 'gis_analyst', 'api', 'map-sheets', 'fgb', "
            "'EPSG:4326', '{\"commune\": \"00037\"}') RETURNING id")).scalar_one()
    analyst = headers("gis_analyst")
    with TestClient(create_app(export_settings)) as restarted:
        queued = wait_done(restarted, f"{API}/exports/{left_queued}", analyst)
        failed = restarted.get(f"{API}/exports/{left_running}", headers=analyst).json()
        not_ready = restarted.get(f"{API}/exports/{left_running}/file", headers=analyst)
    assert failed["status"] == "failed" and "interrupted" in failed["error"]
    assert not_ready.status_code == 409 and not_ready.json()["code"] == "export-not-ready"
    assert queued["status"] == "done" and queued["feature_count"] > 0
    assert queued["crs"] == "EPSG:4326"


def test_export_records_are_kept(api_engine):
    with api_engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="immutable"):
        conn.execute(sa.text("DELETE FROM export_job"))
