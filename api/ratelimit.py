"""A per-process sliding-window limit by client address, for the endpoints a stranger can
use to guess or to scrape (the citizen's dossier lookup, sign-in, search). Enough for one
host; a shared store would be needed across hosts. Behind a reverse proxy, run uvicorn
with --proxy-headers so that the client address is the caller's, not the proxy's."""

from __future__ import annotations

import time
from collections import defaultdict, deque

from fastapi import Request

from cadastre.errors import CadastreError


class TooManyRequests(CadastreError):
    code = "too-many-requests"
    status = 429


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class RateLimiter:
    def __init__(self, per_minute: int,
                 message: str = "too many lookups from this address; wait a minute") -> None:
        self.per_minute = per_minute
        self.message = message
        self.hits: dict[str, deque[float]] = defaultdict(deque)

    #: Addresses remembered before the ones idle for a minute are forgotten (memory bound).
    MAX_ADDRESSES = 50_000

    def check(self, key: str) -> None:
        now = time.monotonic()
        if len(self.hits) > self.MAX_ADDRESSES:
            for idle in [k for k, w in self.hits.items() if not w or now - w[-1] > 60]:
                del self.hits[idle]
        window = self.hits[key]
        while window and now - window[0] > 60:
            window.popleft()
        if len(window) >= self.per_minute:
            raise TooManyRequests(self.message,
                                  retry_after=int(60 - (now - window[0])) + 1)
        window.append(now)
