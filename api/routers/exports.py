"""Bulk exports as background jobs: queue one, follow its status, download the file.

Analysts, supervisors and admins may export; an analyst's export is limited to
``export_max_features_without_approval`` features (403 ``export-needs-approval`` above it):
a supervisor or an admin runs larger exports, and the record says who did. No export holds
personal data, whatever the role (cadastre.exports.collections).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from api.deps import Caller, require
from api.responses import JSONResponse
from api.schemas.exports import ExportIn
from cadastre.access import Role
from cadastre.accounts.service import Principal
from cadastre.errors import Forbidden
from cadastre.exports import jobs
from cadastre.exports.errors import ExportNotFound, ExportNotReady
from cadastre.exports.formats import FORMATS
from cadastre.exports.runner import ExportRunner
from cadastre.exports.service import APPROVERS, check_size, count_features, prepare

EXPORTERS = (Role.GIS_ANALYST, Role.SUPERVISOR, Role.ADMIN)


@asynccontextmanager
async def _runner(app: FastAPI) -> AsyncIterator[None]:
    """The app's export runner: started after the database handles (app.py's lifespan),
    stopped before them."""
    runner = ExportRunner(app.state.engine, app.state.settings.export_dir)
    app.state.exports = runner
    runner.start()
    try:
        yield
    finally:
        await run_in_threadpool(runner.stop)


router = APIRouter(prefix="/api/v1", tags=["exports"], lifespan=_runner)


def _owner(job: dict[str, Any], caller: Principal) -> bool:
    return job["channel"] == "api" and job["requested_by"] == caller.username


def _visible(job: dict[str, Any], caller: Principal) -> dict[str, Any]:
    if caller.role in APPROVERS or _owner(job, caller):
        return job
    raise Forbidden(f"export {job['id']} was requested by another account",
                    hint="supervisors and admins see every export")


def _view(job: dict[str, Any]) -> dict[str, Any]:
    links = {"self": f"/api/v1/exports/{job['id']}"}
    if job["status"] == "done" and job["channel"] == "api":
        links["file"] = f"/api/v1/exports/{job['id']}/file"
    view = {k: v for k, v in job.items() if k not in ("file_path", "user_id")}
    view["links"] = links
    return view


def _read(request: Request, operation: Any) -> Any:
    def run() -> Any:
        with request.app.state.engine.connect() as conn:
            return operation(conn)

    return run_in_threadpool(run)


@router.post("/exports", status_code=202, summary="Queue an export",
             dependencies=[require(*EXPORTERS)],
             description="Checks the request (collection, format, CRS, bbox, and for analysts "
             "the number of features), records it and runs it in the background; follow "
             "`Location` until `status` is `done`, then download `links.file`.")
async def create_export(request: Request, body: ExportIn, caller: Caller) -> Response:
    settings = request.app.state.settings

    def queue() -> dict[str, Any]:
        with request.app.state.engine.begin() as conn:
            export = prepare(conn, collection=body.collection, format=body.format,
                             crs=body.crs, commune=body.commune, bbox=body.bbox,
                             bbox_crs=body.bbox_crs, as_of=body.as_of)
            if caller.role not in APPROVERS:
                check_size(caller.role, count_features(conn, export),
                           settings.export_max_features_without_approval)
            job_id = jobs.create(conn, export, requested_by=str(caller.username),
                                 user_id=caller.user_id, role=caller.role.value,
                                 channel="api")
            return jobs.get(conn, job_id)

    job = await run_in_threadpool(queue)
    request.app.state.exports.wake()
    return JSONResponse(_view(job), status_code=202,
                        headers={"Location": f"/api/v1/exports/{job['id']}"})


@router.get("/exports", summary="Exports: your own, or everyone's for supervisors and admins",
            dependencies=[require(*EXPORTERS)])
async def list_exports(request: Request, caller: Caller,
                       everyone: Annotated[bool, Query(
                           alias="all", description="Every account's (supervisors, admins)")]
                       = False) -> Response:
    if everyone and caller.role not in APPROVERS:
        raise Forbidden("only supervisors and admins see every account's exports")
    rows = await _read(request, lambda conn: jobs.recent(
        conn, requested_by=None if everyone else caller.username))
    return JSONResponse({"exports": [_view(r) for r in rows]})


@router.get("/exports/{job_id}", summary="An export's status, counts and download link",
            dependencies=[require(*EXPORTERS)])
async def export_status(request: Request, job_id: int, caller: Caller) -> Response:
    job = _visible(await _read(request, lambda conn: jobs.get(conn, job_id)), caller)
    return JSONResponse(_view(job), headers={"Cache-Control": "private, no-cache"})


@router.get("/exports/{job_id}/file", summary="Download an export's file",
            dependencies=[require(*EXPORTERS)],
            response_class=FileResponse)
async def export_file(request: Request, job_id: int, caller: Caller) -> Response:
    job = _visible(await _read(request, lambda conn: jobs.get(conn, job_id)), caller)
    if job["status"] != "done":
        raise ExportNotReady(f"export {job_id} is {job['status']}"
                             + (f": {job['error']}" if job["error"] else ""),
                             hint="wait until its status is done" if job["status"] in
                             ("queued", "running") else "request the export again")
    path = Path(job["file_path"] or "")
    if job["channel"] != "api" or not path.is_file():
        raise ExportNotFound(f"the file of export {job_id} is not on this server",
                             hint="request the export again")
    fmt = FORMATS[job["format"]]
    return FileResponse(path, media_type=fmt.media_type,
                        filename=f"{job['collection']}-{job_id}{path.suffix}")
