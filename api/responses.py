"""JSON responses rendered with orjson (fast, handles datetimes, decimals need str())."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from starlette.responses import Response


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class ProblemResponse(JSONResponse):
    media_type = "application/problem+json"


def etag(body: bytes) -> str:
    """A strong ETag for a response body."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def state_etag(state: str, body: bytes) -> str:
    """The ETag of a parcel file: the parcel's state token (its last change), which a change
    request's If-Match sends back, then the body's own tag."""
    return f'"{state}.{etag(body).strip(chr(34))[:16]}"'
