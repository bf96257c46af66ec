"""Where a request came from and where the API says it lives, settled before anything
reads them.

- The client: the socket's peer, unless that peer is one of ``CADASTRE_TRUSTED_PROXIES``;
  then what the proxy wrote in X-Forwarded-For / X-Forwarded-Proto (uvicorn's
  ProxyHeadersMiddleware, given those proxies only).
- The API's own address: every URL the application builds (``request.url``,
  ``request.base_url``, the OGC and TileJSON links, paging links, trailing-slash
  redirects) starts with ``CADASTRE_PUBLIC_BASE_URL``, or, when it is unset, with the
  address of the socket the server accepted the request on. Never with the request's Host
  header: public responses are cached by anyone, so one request with ``Host: evil.example``
  would otherwise hand every later reader links to another site."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

__all__ = ["ProxyHeadersMiddleware", "PublicOrigin"]


class PublicOrigin:
    """Replaces the Host header (and the scheme, when the public base URL is set) in the
    ASGI scope."""

    def __init__(self, app: ASGIApp, base_url: str | None) -> None:
        self.app = app
        self.scheme: str | None = None
        self.host: bytes | None = None
        if base_url:
            parts = urlsplit(base_url)
            self.scheme, self.host = parts.scheme, parts.netloc.encode("idna")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = [(name, value) for name, value in scope["headers"] if name != b"host"]
            if self.host is not None:
                headers.append((b"host", self.host))
                if self.scheme is not None:
                    secure = self.scheme == "https"
                    scope["scheme"] = (("wss" if secure else "ws") if scope["type"] == "websocket"
                                       else self.scheme)
            # without a Host header Starlette names the server's own socket address
            scope["headers"] = headers
        await self.app(scope, receive, send)
