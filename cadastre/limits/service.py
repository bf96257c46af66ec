"""Rate limits counted in PostgreSQL (``rate_limit_hit()``, sql/functions/rate_limits.sql),
so that every worker process and every host of one database shares the counters: one
round trip per request, however many keys it is limited by."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cadastre.errors import TooManyRequests

MINUTE = 60
DAY = 24 * 60 * 60


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``hits`` requests per ``window_s`` seconds for one ``key`` of ``bucket``
    (a client address, an account, a dossier code); ``message`` is the 429's detail."""

    bucket: str
    key: str
    hits: int
    window_s: int
    message: str


def key_hash(key: str) -> bytes:
    """What the table keeps of a key: its sha256 (any text, NUL or lone surrogates too)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


async def hit(conn: Any, limits: Sequence[Limit]) -> None:
    """Count one request against every limit given (an asyncpg connection or pool,
    outside any transaction: the hits stay counted whatever the request does next).

    Raises:
        TooManyRequests: a limit is reached; ``retry_after`` is the longest wait among the
            limits reached, and the message is that limit's.
    """
    if not limits:
        return
    over = await conn.fetch(
        "SELECT bucket, retry_after FROM rate_limit_hit($1::text[], $2::bytea[], "
        "$3::integer[], $4::integer[])",
        [limit.bucket for limit in limits], [key_hash(limit.key) for limit in limits],
        [limit.hits for limit in limits], [limit.window_s for limit in limits])
    if over:
        bucket, wait = max(((r["bucket"], int(r["retry_after"])) for r in over),
                           key=lambda found: found[1])
        message = next(limit.message for limit in limits if limit.bucket == bucket)
        raise TooManyRequests(message, retry_after=wait)
