"""A per-process sliding-window limit by client address, for the endpoints a stranger can
use to guess (the citizen's dossier lookup). Enough for one host; a shared store would be
needed across hosts."""

from __future__ import annotations

import time
from collections import defaultdict, deque

from cadastre.errors import CadastreError


class TooManyRequests(CadastreError):
    code = "too-many-requests"
    status = 429


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.hits: dict[str, deque[float]] = defaultdict(deque)

    def check(self, key: str) -> None:
        now = time.monotonic()
        window = self.hits[key]
        while window and now - window[0] > 60:
            window.popleft()
        if len(window) >= self.per_minute:
            raise TooManyRequests("too many lookups from this address; wait a minute",
                                  retry_after=int(60 - (now - window[0])) + 1)
        window.append(now)
