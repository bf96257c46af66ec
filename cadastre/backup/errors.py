"""Why a backup or a restore is refused or fails: the errors of `cadastre backup`/`restore`."""

from __future__ import annotations

from cadastre.errors import CadastreError, ConfigurationError, Conflict, InvalidInput, NotFound


class BackupFileMissing(NotFound):
    code = "backup-missing"


class BackupCorrupt(InvalidInput):
    """The archive does not match its manifest (sha256 or size), or the manifest is not one
    this program wrote."""

    code = "backup-corrupt"


class RestoreTargetNotEmpty(Conflict):
    code = "restore-target-not-empty"


class WrongServer(CadastreError):
    """The server (or the client tools found for it) cannot take this backup: an older
    PostgreSQL or PostGIS than the one it was made on, missing roles, old pg_dump."""

    code = "wrong-server"
    status = 409


class PgToolMissing(ConfigurationError):
    code = "pg-tool-missing"


class BackupFailed(CadastreError):
    """pg_dump or pg_restore failed; the message carries its first error line."""

    code = "backup-failed"
    status = 500


class RestoreMismatch(CadastreError):
    """The restored database does not hold what the manifest says the archive holds."""

    code = "restore-mismatch"
    status = 500
