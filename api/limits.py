"""Request limits that hold before any route runs: the size of a request body (pure ASGI, so
an oversized upload is refused from its Content-Length, or cut off while it streams, without
being buffered), and what the CORS allow-list admits."""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: What a cross-origin page may send and read (the API's own headers included).
CORS_HEADERS = ["Authorization", "Content-Type", "If-Match", "If-None-Match",
                "Idempotency-Key", "X-API-Key", "X-Dossier-Code", "Accept-Crs"]
CORS_EXPOSED = ["ETag", "Content-Crs", "Link", "Retry-After", "Location"]


class BodySizeLimit:
    """413 problem+json for a body over ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        seen = 0
        started = refused = False

        async def counted() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # answer 413 now and tell the route the client is gone: whatever it
                    # answers to that is dropped below
                    if not started and not refused:
                        await self._refuse(send)
                    refused = True
                    return {"type": "http.disconnect"}
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, tracked)

    async def _refuse(self, send: Send) -> None:
        body = orjson.dumps({
            "type": "https://cadastre.example/problems/body-too-large",
            "title": "Content Too Large", "status": 413, "code": "body-too-large",
            "detail": f"the request body is over the limit of {self.max_bytes:,} bytes"})
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
