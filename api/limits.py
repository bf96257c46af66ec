"""Request limits that hold before any route runs: the size of a request body (pure ASGI, so
an oversized upload is refused from its Content-Length, or cut off while it streams, without
being buffered), text the database cannot store (NUL characters), and what the CORS
allow-list admits."""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

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


#: A JSON string escape for U+0000 that is not itself escaped (an even number of
#: backslashes before it: ``"\\u0000"`` is the six characters, ``"\u0000"`` is NUL).
_JSON_NUL = re.compile(rb"(?:^|[^\\])(?:\\\\)*\\u0000")


def _json_has_nul(body: bytes) -> bool:
    return b"\\u0000" in body and _JSON_NUL.search(body) is not None


def _form_has_nul(body: bytes) -> bool:
    return b"\x00" in unquote_to_bytes(body)


class NoNulCharacters:
    """422 problem+json for a request whose path, query string, or JSON or form body holds
    the character U+0000 (NUL): PostgreSQL text cannot store it, so no route could use the
    value and the drivers would fail on it. JSON and form bodies (bounded by BodySizeLimit,
    which runs before) are read whole, checked, and handed on; other bodies go through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(scope["query_string"]):
            await _refuse_nul(send, "the URL")
            return
        content_type = dict(scope["headers"]).get(b"content-type", b"")
        media = content_type.split(b";", 1)[0].strip().lower()
        if media in (b"", b"application/json") or media.endswith(b"+json"):
            check = _json_has_nul
        elif media == b"application/x-www-form-urlencoded":
            check = _form_has_nul
        else:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        if check(b"".join(m.get("body", b"") for m in messages
                          if m["type"] == "http.request")):
            await _refuse_nul(send, "the request body")
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _refuse_nul(send: Send, where: str) -> None:
    body = orjson.dumps({
        "type": "https://cadastre.example/problems/nul-character",
        "title": "Unprocessable Content", "status": 422, "code": "nul-character",
        "detail": f"{where} holds a NUL character (U+0000), which no text field can store"})
    await send({"type": "http.response.start", "status": 422, "headers": [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
