"""Domain errors. Each carries a stable ``code`` (used by the API's problem+json and by
scripts), a message safe to show the user and an optional hint saying how to fix it."""

from __future__ import annotations

from typing import Any, ClassVar


class CadastreError(Exception):
    """Base of every error the system reports to a user on purpose. A ``problem`` mapping
    in the context holds further members of the API's problem body (safe to show, e.g. the
    id of the existing party a duplicate would repeat)."""

    code: ClassVar[str] = "cadastre-error"
    status: ClassVar[int] = 400

    def __init__(self, message: str, *, hint: str | None = None, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.context = context

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigurationError(CadastreError):
    code = "configuration"
    status = 500


class DatabaseUnavailable(CadastreError):
    code = "database-unavailable"
    status = 503


class PostgisMissing(CadastreError):
    code = "postgis-missing"
    status = 500


class MigrationError(CadastreError):
    code = "migration"
    status = 500


class MigrationEdited(MigrationError):
    code = "migration-edited"


class SridMismatch(CadastreError):
    code = "srid-mismatch"
    status = 409


class NotFound(CadastreError):
    code = "not-found"
    status = 404


class ParcelNotFound(NotFound):
    code = "parcel-not-found"


class InvalidInput(CadastreError):
    code = "invalid-input"
    status = 422


class InvalidBbox(InvalidInput):
    """Malformed, not finite, inverted, or reaching beyond the area where the register's CRS
    is defined (a world-sized box)."""

    code = "invalid-bbox"


class OutsideCrsArea(InvalidInput):
    """A coordinate of a geometry to be written lies outside the area of use of the storage
    CRS (cadastre.extent): a mistake (a wrong CRS, a typo, 1e300), never a parcel."""

    code = "outside-crs-area"


class Conflict(CadastreError):
    code = "conflict"
    status = 409


class TopologyConflict(Conflict):
    code = "topology-conflict"


class ImportSourceError(InvalidInput):
    """A source file that cannot be imported as it is (missing part, truncated, wrong
    kind of data, unsafe archive). The message names the file and the problem."""

    code = "import-source"


class UnknownProfile(InvalidInput):
    code = "unknown-profile"


class EncodingQuestion(InvalidInput):
    """The text encoding cannot be told with enough confidence: the user must say it."""

    code = "encoding-undetermined"


class CoordinateQuestion(InvalidInput):
    """The CRS cannot be known, or the coordinates do not fit it."""

    code = "crs-undetermined"


class ImportRejected(InvalidInput):
    """--on-error abort and some features failed validation: nothing was written."""

    code = "import-rejected"


class AuthenticationFailed(CadastreError):
    code = "unauthenticated"
    status = 401


class UserNotFound(NotFound):
    code = "user-not-found"


class Forbidden(CadastreError):
    code = "forbidden"
    status = 403


class TooManyRequests(CadastreError):
    """A rate limit was reached; ``retry_after`` (seconds) says when to try again."""

    code = "too-many-requests"
    status = 429


class InvalidParameter(InvalidInput):
    """A query parameter that the OGC API standards answer with 400 Bad Request (a value
    that does not parse, a parameter the operation does not define)."""

    code = "invalid-parameter"
    status = 400


class UnsupportedCrs(InvalidParameter):
    """A crs or bbox-crs that is not in the list the service offers (OGC API - Features -
    Part 2: 400)."""

    code = "crs-not-supported"


class CollectionNotFound(NotFound):
    code = "collection-not-found"


class FeatureNotFound(NotFound):
    code = "feature-not-found"


class TileNotFound(NotFound):
    """A tile address outside the tile matrix (x or y beyond 2^z - 1, zoom above the
    highest)."""

    code = "tile-not-found"
