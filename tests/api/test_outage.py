"""The database goes away under a running API and comes back: the API answers 503
problem+json (never 500) while it is away and 200 again afterwards, without a restart.

The outage is a TCP proxy between the API and the test server that is cut (every open
connection closed, new ones refused) and restored, so the shared server is not touched."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from api.app import create_app
from cadastre.settings import Settings
from tests.api.conftest import PASSWORD


class CuttableProxy:
    """Forwards 127.0.0.1:<port> to the database server until cut."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Like a server crash: refuse new connections, drop the open ones."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, []
        if listener is not None:
            listener.close()
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxied(api_settings: Settings) -> Iterator[tuple[Settings, CuttableProxy]]:
    url = make_url(api_settings.database_url)
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    settings = api_settings.model_copy(update={
        "database_url": url.set(host="127.0.0.1", port=proxy.port).render_as_string(
            hide_password=False),
        "connect_timeout_s": 2})
    yield settings, proxy
    proxy.cut()


def test_api_answers_503_while_the_database_is_away_and_recovers_by_itself(proxied, api_engine):
    settings, proxy = proxied
    with api_engine.connect() as conn:
        parcel_id, lon, lat = conn.execute(sa.text(
            "SELECT parcel_id, ST_X(pt), ST_Y(pt) FROM (SELECT parcel_id, ST_Transform("
            "ST_PointOnSurface(geom), 4326) AS pt FROM current_parcel ORDER BY parcel_id "
            "LIMIT 1) s")).one()
    urls = {"health": "/health",
            "point lookup (fast path)": f"/api/v1/parcels/at?lon={lon}&lat={lat}",
            "parcel file": f"/api/v1/parcels/{parcel_id}"}
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        sign_in = {"username": "t-land-officer", "password": PASSWORD}
        for name, url in urls.items():
            assert client.get(url).status_code == 200, name
        assert client.post("/api/v1/auth/token", data=sign_in).status_code == 200

        proxy.cut()
        # more requests than the pool holds connections, so every dead one is met
        for _ in range(settings.api_pool_max + 2):
            for name, url in urls.items():
                response = client.get(url)
                assert response.status_code == 503, (name, response.text)
                assert response.headers["content-type"] == "application/problem+json"
                assert response.json()["code"] == "database-unavailable", name
        # the writer engine (psycopg2) too
        response = client.post("/api/v1/auth/token", data=sign_in)
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "database-unavailable"

        proxy.restore()
        seen: dict[str, list[int]] = {name: [] for name in urls}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            statuses = {name: client.get(url).status_code for name, url in urls.items()}
            for name, status in statuses.items():
                seen[name].append(status)
            if all(s == 200 for s in statuses.values()):
                break
            time.sleep(0.2)
        assert all(s == 200 for s in statuses.values()), seen
        assert all(s in (200, 503) for history in seen.values() for s in history), seen
        # and it stays up: every pooled connection is a live one again
        for _ in range(settings.api_pool_max + 2):
            for name, url in urls.items():
                assert client.get(url).status_code == 200, name
        assert client.post("/api/v1/auth/token", data=sign_in).status_code == 200
