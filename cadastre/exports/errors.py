"""Errors of bulk exports, each with a stable code for the API's problem+json."""

from __future__ import annotations

from cadastre.errors import Conflict, Forbidden, InvalidInput, NotFound
from cadastre.errors import InvalidBbox as InvalidBbox  # shared with the API's other boxes


class UnknownCollection(InvalidInput):
    code = "unknown-collection"


class UnknownFormat(InvalidInput):
    code = "unknown-format"


class UnknownCrs(InvalidInput):
    """Not of the form EPSG:N, unknown to PostGIS or PROJ, or not usable for this export
    (a CRS defined for another part of the world, another CRS than WGS 84 for GeoJSON)."""

    code = "unknown-crs"


class ExportNeedsApproval(Forbidden):
    """More features than an analyst may export without a supervisor."""

    code = "export-needs-approval"


class ExportTooLarge(InvalidInput):
    """The data does not fit the format (a shapefile's 2 GB parts)."""

    code = "export-too-large"


class ExportNotFound(NotFound):
    code = "export-not-found"


class ExportNotReady(Conflict):
    """The file of a job that is not done (queued, running or failed)."""

    code = "export-not-ready"


class ExportInterrupted(Conflict):
    """The export was stopped (the process shutting down) before it finished."""

    code = "export-interrupted"
